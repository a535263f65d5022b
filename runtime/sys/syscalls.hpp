// One wrapper per syscall berth uses. Each sets O_CLOEXEC where it applies, retries EINTR
// (never for close), and throws berth::Error naming the operation and the path.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "runtime/sys/fd.hpp"

namespace berth::sys {

Fd openat(int dirfd, const std::string& path, int flags, mode_t mode = 0);
// As openat, but returns nullopt when the path does not exist (ENOENT).
std::optional<Fd> try_openat(int dirfd, const std::string& path, int flags, mode_t mode = 0);

// Reads a whole file (or what is left of an fd) into a string.
std::string read_all(int fd, std::string_view what);
std::string read_file(int dirfd, const std::string& path);
std::optional<std::string> try_read_file(int dirfd, const std::string& path);
void write_all(int fd, std::string_view data, std::string_view what);
// Writes data to an existing file (no O_CREAT): e.g. /proc and /sys knobs.
void write_file(int dirfd, const std::string& path, std::string_view data);

// mkdir -p: path with mode, its missing parents with 0755; one syscall when they exist.
void mkdir_p(const std::string& path, mode_t mode);
// Creates dirfd/path with mode; returns false when it already existed.
bool mkdirat(int dirfd, const std::string& path, mode_t mode);

std::pair<Fd, Fd> socketpair(int domain, int type);
std::pair<Fd, Fd> pipe();

// One message on a unix socket carrying `fd` as SCM_RIGHTS, with `data` (at least one byte is
// sent: an empty message could not carry the fd on a stream socket).
void send_fd(int sock, std::string_view data, int fd, std::string_view what);
// recvmsg of one message (MSG_CMSG_CLOEXEC, EINTR retried). An fd that came with it
// (SCM_RIGHTS) is stored in *fd; further ones, or any when fd is null, are closed. Returns
// -1 with errno set on error, EMSGSIZE when a datagram or packet did not fit in len (the rest
// of it is lost: the caller's buffer is too small for its protocol).
ssize_t recv_with_fd(int sock, void* buf, size_t len, Fd* fd);
// A SOCK_STREAM connection to the AF_UNIX socket at path; errors start with `what` (the flag or
// field that named the path).
Fd connect_unix(const std::string& path, std::string_view what);

Fd pidfd_open(pid_t pid);
// Sends sig through a pidfd: no PID reuse race.
void pidfd_send_signal(int pidfd, int sig);

// Moves fd to a number >= min_fd (F_DUPFD_CLOEXEC) when it is below it.
Fd dup_above(Fd fd, int min_fd);

// waitpid that retries EINTR; returns the raw status.
int waitpid(pid_t pid, int options = 0);
// The exit status a shell would report for a waitpid status: code, or 128+signal.
int exit_status(int wstatus);

}  // namespace berth::sys
