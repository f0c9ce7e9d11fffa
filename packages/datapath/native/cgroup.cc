// cgroup attachment of the socket-level load-balancing programs (bpf_sock.c):
// BPF links on a cgroup v2 directory, pinned in bpffs so they outlive the
// process that made them (an agent restart) and go away with the pin.
// A program attached to a cgroup runs for every socket created by a process
// of that cgroup or any cgroup below it.
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"
#include "exports.h"
#include "pinned_link.h"

namespace tycho {

namespace {

// Programs listed per hook query; more than Tycho ever puts there.
constexpr uint32_t kQueryMax = 64;

struct CgroupHook {
  std::string path;
  enum bpf_attach_type type;
  std::string label;  // "cgroup connect4 of /sys/fs/cgroup/unified/tycho/node-1"
};

// Arguments (cgroupPath, "connect4" | "sendmsg4" | "recvmsg4" | "getpeername4", ...).
CgroupHook HookArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CgroupHook hook;
  hook.path = StringArg(info, 0, "cgroupPath");
  std::string hook_name = StringArg(info, 1, "hook");
  if (hook_name == "connect4") {
    hook.type = BPF_CGROUP_INET4_CONNECT;
  } else if (hook_name == "sendmsg4") {
    hook.type = BPF_CGROUP_UDP4_SENDMSG;
  } else if (hook_name == "recvmsg4") {
    hook.type = BPF_CGROUP_UDP4_RECVMSG;
  } else if (hook_name == "getpeername4") {
    hook.type = BPF_CGROUP_INET4_GETPEERNAME;
  } else {
    ThrowType(env, "hook must be 'connect4', 'sendmsg4', 'recvmsg4' or 'getpeername4', got '" + hook_name + "'");
  }
  hook.label = "cgroup " + hook_name + " of " + hook.path;
  return hook;
}

int OpenCgroup(Napi::Env env, const CgroupHook& hook) {
  int fd = open(hook.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(env, "opening the cgroup " + hook.path + " for " + hook.label, errno);
  return fd;
}

// cgroupAttach(cgroupPath, hook, progFd, pinPath): the program runs at the
// hook through the link pinned at pinPath (an existing link there gets the
// new program, atomically).
Napi::Value CgroupAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CgroupHook hook = HookArgs(info);
  if (!info[2].IsNumber()) ThrowType(env, "progFd must be a number");
  int prog_fd = info[2].As<Napi::Number>().Int32Value();
  std::string pin_path = StringArg(info, 3, "pinPath");

  if (UpdatePinnedLink(env, pin_path, prog_fd, hook.label)) return env.Undefined();

  int cgroup_fd = OpenCgroup(env, hook);
  int link_fd = bpf_link_create(prog_fd, cgroup_fd, hook.type, nullptr);
  int err = errno;
  close(cgroup_fd);
  if (link_fd < 0) ThrowErrno(env, "attaching program fd " + std::to_string(prog_fd) + " at " + hook.label, err);
  int ret = bpf_obj_pin(link_fd, pin_path.c_str());
  err = errno;
  // Without the pin, closing the fd detaches the program again.
  close(link_fd);
  if (ret < 0) ThrowErrno(env, "pinning the link for " + hook.label + " at " + pin_path, err);
  return env.Undefined();
}

// cgroupDetach(pinPath): detaches the link pinned there, whoever else holds
// it open, and unpins it. False when nothing was pinned.
Napi::Value CgroupDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string pin_path = StringArg(info, 0, "pinPath");
  return Napi::Boolean::New(env, DetachPinnedLink(env, pin_path));
}

// cgroupQuery(cgroupPath, hook): ids of the programs attached at the hook of
// that cgroup itself (not inherited ones). Empty when the cgroup is gone.
Napi::Value CgroupQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CgroupHook hook = HookArgs(info);
  Napi::Array out = Napi::Array::New(env);
  int cgroup_fd = open(hook.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup_fd < 0) {
    if (errno == ENOENT) return out;
    ThrowErrno(env, "opening the cgroup " + hook.path, errno);
  }
  std::vector<__u32> ids(kQueryMax);
  __u32 count = kQueryMax;
  int ret = bpf_prog_query(cgroup_fd, hook.type, 0, nullptr, ids.data(), &count);
  int err = errno;
  close(cgroup_fd);
  if (ret < 0) ThrowErrno(env, "querying " + hook.label, err);
  for (__u32 i = 0; i < count && i < kQueryMax; i++) out.Set(i, Napi::Number::New(env, ids[i]));
  return out;
}

}  // namespace

void InitCgroup(Napi::Env env, Napi::Object exports) {
  exports.Set("cgroupAttach", Napi::Function::New<CgroupAttach>(env, "cgroupAttach"));
  exports.Set("cgroupDetach", Napi::Function::New<CgroupDetach>(env, "cgroupDetach"));
  exports.Set("cgroupQuery", Napi::Function::New<CgroupQuery>(env, "cgroupQuery"));
}

}  // namespace tycho
