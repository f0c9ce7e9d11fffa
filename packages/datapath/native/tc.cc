// tc (clsact) attachment of BPF programs through libbpf's netlink API.
#include <bpf/libbpf.h>
#include <errno.h>

#include <string>

#include "errors.h"
#include "exports.h"

namespace tycho {

namespace {

struct TcTarget {
  int ifindex;
  bpf_tc_attach_point point;
  uint32_t handle;
  uint32_t priority;
  std::string label;  // "tc ingress on ifindex 7 (handle 1, priority 1)"
};

// Arguments (ifindex, "ingress" | "egress", handle, priority, ...).
TcTarget TargetArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) ThrowType(env, "ifindex must be a number");
  if (!info[1].IsString()) ThrowType(env, "direction must be 'ingress' or 'egress'");
  TcTarget t;
  t.ifindex = info[0].As<Napi::Number>().Int32Value();
  std::string direction = info[1].As<Napi::String>().Utf8Value();
  if (direction == "ingress") {
    t.point = BPF_TC_INGRESS;
  } else if (direction == "egress") {
    t.point = BPF_TC_EGRESS;
  } else {
    ThrowType(env, "direction must be 'ingress' or 'egress', got '" + direction + "'");
  }
  t.handle = info[2].As<Napi::Number>().Uint32Value();
  t.priority = info[3].As<Napi::Number>().Uint32Value();
  t.label = "tc " + direction + " on ifindex " + std::to_string(t.ifindex) + " (handle " +
            std::to_string(t.handle) + ", priority " + std::to_string(t.priority) + ")";
  return t;
}

// tcAttach(ifindex, direction, handle, priority, progFd): creates the clsact
// qdisc when missing and replaces a filter already at (handle, priority).
Napi::Value TcAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TcTarget t = TargetArgs(info);
  int prog_fd = info[4].As<Napi::Number>().Int32Value();

  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t.ifindex, .attach_point = t.point);
  int ret = bpf_tc_hook_create(&hook);
  if (ret < 0 && ret != -EEXIST) ThrowErrno(env, "creating clsact qdisc for " + t.label, -ret);

  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE,
              .handle = t.handle, .priority = t.priority);
  ret = bpf_tc_attach(&hook, &opts);
  if (ret < 0) ThrowErrno(env, "attaching program fd " + std::to_string(prog_fd) + " at " + t.label, -ret);
  return Napi::Number::New(env, opts.prog_id);
}

// tcDetach(ifindex, direction, handle, priority): boolean, false when nothing
// was attached there (or the interface or its clsact qdisc is gone).
Napi::Value TcDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TcTarget t = TargetArgs(info);
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t.ifindex, .attach_point = t.point);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = t.handle, .priority = t.priority);
  int ret = bpf_tc_detach(&hook, &opts);
  if (ret == -ENOENT || ret == -ENODEV || ret == -EINVAL) return Napi::Boolean::New(env, false);
  if (ret < 0) ThrowErrno(env, "detaching " + t.label, -ret);
  return Napi::Boolean::New(env, true);
}

// tcQuery(ifindex, direction, handle, priority): id of the attached program, 0 if none.
Napi::Value TcQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TcTarget t = TargetArgs(info);
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t.ifindex, .attach_point = t.point);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = t.handle, .priority = t.priority);
  int ret = bpf_tc_query(&hook, &opts);
  if (ret == -ENOENT || ret == -ENODEV || ret == -EINVAL) return Napi::Number::New(env, 0);
  if (ret < 0) ThrowErrno(env, "querying " + t.label, -ret);
  return Napi::Number::New(env, opts.prog_id);
}

}  // namespace

void InitTc(Napi::Env env, Napi::Object exports) {
  exports.Set("tcAttach", Napi::Function::New<TcAttach>(env, "tcAttach"));
  exports.Set("tcDetach", Napi::Function::New<TcDetach>(env, "tcDetach"));
  exports.Set("tcQuery", Napi::Function::New<TcQuery>(env, "tcQuery"));
}

}  // namespace tycho
