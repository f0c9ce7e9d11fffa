// tcx attachment (Linux 6.6+): BPF links on an interface's tc ingress/egress
// hook, pinned in bpffs so they outlive the process that made them.
//
// libbpf 1.1 predates tcx: it has no bpf_program__attach_tcx() and its
// headers lack BPF_TCX_INGRESS/EGRESS. Its low-level bpf_link_create() passes
// any attach type through (the default case of its switch), with target_fd
// in the slot the kernel reads as target_ifindex and every tcx option (flags,
// relative_fd, expected_revision) zero: "append to the hook". Likewise
// bpf_prog_query() fills the fields a tcx query reads (target_ifindex,
// attach_type, prog_ids, prog_cnt).
#include <bpf/bpf.h>
#include <errno.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"
#include "exports.h"
#include "pinned_link.h"

namespace tycho {

namespace {

// enum bpf_attach_type values from Linux 6.6's uapi/linux/bpf.h.
constexpr int kTcxIngress = 46;
constexpr int kTcxEgress = 47;
// Programs listed per hook query; more than Tycho ever puts there.
constexpr uint32_t kQueryMax = 64;

struct TcxHook {
  int ifindex;
  enum bpf_attach_type type;
  std::string label;  // "tcx ingress on ifindex 7"
};

// Arguments (ifindex, "ingress" | "egress", ...).
TcxHook HookArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) ThrowType(env, "ifindex must be a number");
  if (!info[1].IsString()) ThrowType(env, "direction must be 'ingress' or 'egress'");
  TcxHook hook;
  hook.ifindex = info[0].As<Napi::Number>().Int32Value();
  std::string direction = info[1].As<Napi::String>().Utf8Value();
  if (direction == "ingress") {
    hook.type = static_cast<enum bpf_attach_type>(kTcxIngress);
  } else if (direction == "egress") {
    hook.type = static_cast<enum bpf_attach_type>(kTcxEgress);
  } else {
    ThrowType(env, "direction must be 'ingress' or 'egress', got '" + direction + "'");
  }
  hook.label = "tcx " + direction + " on ifindex " + std::to_string(hook.ifindex);
  return hook;
}

// tcxAttach(ifindex, direction, progFd, pinPath): true once the program runs
// at the hook through the link pinned at pinPath (an existing link there gets
// the new program, atomically); false when the kernel has no tcx.
Napi::Value TcxAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TcxHook hook = HookArgs(info);
  int prog_fd = info[2].As<Napi::Number>().Int32Value();
  std::string pin_path = StringArg(info, 3, "pinPath");

  if (UpdatePinnedLink(env, pin_path, prog_fd, hook.label)) return Napi::Boolean::New(env, true);

  int link_fd = bpf_link_create(prog_fd, hook.ifindex, hook.type, nullptr);
  if (link_fd < 0) {
    int err = errno;
    // A kernel without tcx rejects the attach type as invalid.
    if (err == EINVAL || err == EOPNOTSUPP) return Napi::Boolean::New(env, false);
    ThrowErrno(env, "attaching program fd " + std::to_string(prog_fd) + " at " + hook.label, err);
  }
  int ret = bpf_obj_pin(link_fd, pin_path.c_str());
  int err = errno;
  // Without the pin, closing the fd detaches the program again.
  close(link_fd);
  if (ret < 0) ThrowErrno(env, "pinning the link for " + hook.label + " at " + pin_path, err);
  return Napi::Boolean::New(env, true);
}

// tcxDetach(pinPath): detaches the link pinned there, whoever else holds it
// open, and unpins it. False when nothing was pinned.
Napi::Value TcxDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string pin_path = StringArg(info, 0, "pinPath");
  return Napi::Boolean::New(env, DetachPinnedLink(env, pin_path));
}

// tcxQuery(ifindex, direction): ids of every program on the tcx hook, in run
// order, whoever attached them. Empty when the interface is gone or the
// kernel has no tcx.
Napi::Value TcxQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TcxHook hook = HookArgs(info);
  std::vector<__u32> ids(kQueryMax);
  __u32 count = kQueryMax;
  Napi::Array out = Napi::Array::New(env);
  if (bpf_prog_query(hook.ifindex, hook.type, 0, nullptr, ids.data(), &count) < 0) {
    if (errno == ENODEV || errno == EINVAL) return out;
    ThrowErrno(env, "querying " + hook.label, errno);
  }
  for (__u32 i = 0; i < count && i < kQueryMax; i++) out.Set(i, Napi::Number::New(env, ids[i]));
  return out;
}

}  // namespace

void InitTcx(Napi::Env env, Napi::Object exports) {
  exports.Set("tcxAttach", Napi::Function::New<TcxAttach>(env, "tcxAttach"));
  exports.Set("tcxDetach", Napi::Function::New<TcxDetach>(env, "tcxDetach"));
  exports.Set("tcxQuery", Napi::Function::New<TcxQuery>(env, "tcxQuery"));
}

}  // namespace tycho
