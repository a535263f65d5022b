// An owned DIR* stream.
#pragma once

#include <dirent.h>

#include <memory>

namespace berth::sys {

struct DirCloser {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};
using Dir = std::unique_ptr<DIR, DirCloser>;

}  // namespace berth::sys
