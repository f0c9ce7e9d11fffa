#include "errors.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>

namespace tycho {

namespace {

const char* ErrnoCode(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOMEM: return "ENOMEM";
    case E2BIG: return "E2BIG";
    case ENOSPC: return "ENOSPC";
    case ENODEV: return "ENODEV";
    case EBUSY: return "EBUSY";
    case ENOTSUP: return "ENOTSUP";
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    case ENOLINK: return "ENOLINK";
    default: return "EUNKNOWN";
  }
}

}  // namespace

void ThrowErrno(Napi::Env env, const std::string& what, int err, const std::string& detail) {
  std::string message = what + ": " + strerror(err);
  if (!detail.empty()) message += "\n" + detail;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("code", Napi::String::New(env, ErrnoCode(err)));
  throw error;
}

void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

std::string MapLabel(int fd) {
  struct bpf_map_info info = {};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.name[0] != '\0') {
    return std::string("map '") + info.name + "' (fd " + std::to_string(fd) + ")";
  }
  return "map fd " + std::to_string(fd);
}

}  // namespace tycho
