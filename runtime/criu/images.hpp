// The directories CRIU works in (images, work/logs) and how a failed CRIU call is reported:
// CRIU's own words from its log, the log's path, and whether CRIU works on this kernel at all.
#pragma once

#include <string>
#include <string_view>

#include "runtime/criu/rpc.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/fd.hpp"

namespace berth::criu {

struct Dirs {
  std::string images;
  sys::Fd images_fd;  // CRIU opens it through /proc/<berth>/fd: it stays ours
  std::string work;
  sys::Fd work_fd;
};

// Opens the image directory (made 0700 with its parents when `create`, as runc) and the work
// directory (made when missing; "" is the image directory). Errors name --image-path or
// --work-path.
Dirs open_dirs(const std::string& images, const std::string& work, bool create);

// The error for a CRIU request that answered success=false: "criu dump failed: <the first
// error lines of its log> (log: <work>/<log>)", and, when `criu check` fails too, what it says
// ("criu does not work on this kernel: ..."). errno is CRIU's cr_errno.
Error failure(std::string_view op, const Resp& r, const Dirs& d, std::string_view log, const std::string& binary);

}  // namespace berth::criu
