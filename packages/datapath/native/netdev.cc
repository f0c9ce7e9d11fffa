// Network devices of the calling process's network namespace.
#include <errno.h>
#include <net/if.h>

#include "errors.h"
#include "exports.h"

namespace tycho {

namespace {

// if_nametoindex(3): an ioctl on a socket of this network namespace (what
// /sys/class/net shows belongs to the mount's namespace, not the process's).
Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "ifNameToIndex(name: string)");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  unsigned int ifindex = if_nametoindex(name.c_str());
  if (ifindex == 0) {
    int err = errno;
    ThrowErrno(env, "if_nametoindex(" + name + ")", err);
  }
  return Napi::Number::New(env, ifindex);
}

}  // namespace

void InitNetdev(Napi::Env env, Napi::Object exports) {
  exports.Set("ifNameToIndex", Napi::Function::New<IfNameToIndex>(env, "ifNameToIndex"));
}

}  // namespace tycho
