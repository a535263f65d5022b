// A static sd_notify client copied into test containers (busybox has none): sends argv[1]
// (default READY=1) to $NOTIFY_SOCKET.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || std::strlen(path) >= sizeof(sockaddr_un::sun_path)) {
    std::fprintf(stderr, "sd-notify: NOTIFY_SOCKET unset or too long\n");
    return 1;
  }
  const char* msg = argc > 1 ? argv[1] : "READY=1";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path);
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0 || ::sendto(fd, msg, std::strlen(msg), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    std::perror("sd-notify");
    return 1;
  }
  return 0;
}
