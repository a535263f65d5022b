#include "runtime/criu/images.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "runtime/sys/syscalls.hpp"

namespace berth::criu {

namespace {

sys::Fd open_dir(const std::string& path, bool create, std::string_view what) {
  if (path.empty()) throw Error(fmt::format("{}: an empty path", what));
  if (create) with_context(what, [&] { sys::mkdir_p(path, 0700); });
  return with_context(what, [&] { return sys::openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY); });
}

}  // namespace

Dirs open_dirs(const std::string& images, const std::string& work, bool create) {
  Dirs d;
  d.images = images;
  d.images_fd = open_dir(images, create, "--image-path");
  d.work = work.empty() ? images : work;
  d.work_fd = open_dir(d.work, true, "--work-path");
  return d;
}

Error failure(std::string_view op, const Resp& r, const Dirs& d, std::string_view log, const std::string& binary) {
  std::string why = first_log_errors(d.work_fd.get(), std::string(log));
  if (why.empty()) why = r.cr_errmsg.value_or("no reason given");
  std::string msg = fmt::format("criu {} failed: {} (log: {}/{})", op, why, d.work, log);
  // A CRIU that cannot work on this kernel fails every dump in its own way; `criu check` says
  // why in one line. Asked only now: it costs a whole CRIU run.
  try {
    if (auto broken = check(d.work, binary)) msg += fmt::format("; criu does not work on this kernel: `criu check`: {}", *broken);
  } catch (const Error& e) {
    spdlog::debug("criu check: {}", e.what());
  }
  return Error(std::move(msg), r.cr_errno.value_or(0));
}

}  // namespace berth::criu
