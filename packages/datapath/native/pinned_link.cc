#include "pinned_link.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <unistd.h>

#include "errors.h"

namespace tycho {

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsString()) ThrowType(info.Env(), std::string(name) + " must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

bool UpdatePinnedLink(Napi::Env env, const std::string& pin_path, int prog_fd, const std::string& label) {
  int link_fd = bpf_obj_get(pin_path.c_str());
  if (link_fd < 0) {
    if (errno == ENOENT) return false;
    ThrowErrno(env, "opening the pinned link " + pin_path + " for " + label, errno);
  }
  int ret = bpf_link_update(link_fd, prog_fd, nullptr);
  int err = errno;
  close(link_fd);
  if (ret == 0) return true;
  if (err != ENOLINK) ThrowErrno(env, "replacing the program of the link " + pin_path + " at " + label, err);
  if (unlink(pin_path.c_str()) < 0 && errno != ENOENT) ThrowErrno(env, "unpinning the defunct link " + pin_path, errno);
  return false;
}

bool DetachPinnedLink(Napi::Env env, const std::string& pin_path) {
  int link_fd = bpf_obj_get(pin_path.c_str());
  if (link_fd < 0) {
    if (errno == ENOENT) return false;
    ThrowErrno(env, "opening the pinned link " + pin_path, errno);
  }
  int ret = bpf_link_detach(link_fd);
  int err = errno;
  close(link_fd);
  // ENOLINK: already detached, as when its interface or cgroup went away.
  if (ret < 0 && err != ENOLINK) ThrowErrno(env, "detaching the link pinned at " + pin_path, err);
  if (unlink(pin_path.c_str()) < 0 && errno != ENOENT) ThrowErrno(env, "unpinning the link " + pin_path, errno);
  return true;
}

}  // namespace tycho
