// The parent's side of a new user namespace: writing /proc/<pid>/uid_map and gid_map, directly
// when the kernel allows it and through newuidmap/newgidmap (package uidmap, /etc/subuid and
// /etc/subgid) when an unprivileged user asks for more than its own id, as runc does.
#pragma once

#include <sys/types.h>

#include "oci/spec.hpp"

namespace berth {

// linux.uidMappings, then setgroups ("deny" when only the caller's own gid is mapped by a
// caller without CAP_SETGID) and linux.gidMappings, for the child pid. Errors name the field,
// what was tried and the errno.
void write_id_maps(pid_t pid, const oci::Spec& spec);

}  // namespace berth
