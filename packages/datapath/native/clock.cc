// Kernel clocks: event timestamps are CLOCK_BOOTTIME (bpf_ktime_get_boot_ns).
#include <errno.h>
#include <time.h>

#include "errors.h"
#include "exports.h"

namespace tycho {

namespace {

Napi::Value ReadClock(Napi::Env env, clockid_t clock, const char* name) {
  struct timespec ts;
  if (clock_gettime(clock, &ts) < 0) {
    int err = errno;
    ThrowErrno(env, std::string("clock_gettime(") + name + ")", err);
  }
  uint64_t ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
  return Napi::BigInt::New(env, ns);
}

Napi::Value BoottimeNs(const Napi::CallbackInfo& info) {
  return ReadClock(info.Env(), CLOCK_BOOTTIME, "CLOCK_BOOTTIME");
}

Napi::Value RealtimeNs(const Napi::CallbackInfo& info) {
  return ReadClock(info.Env(), CLOCK_REALTIME, "CLOCK_REALTIME");
}

}  // namespace

void InitClock(Napi::Env env, Napi::Object exports) {
  exports.Set("boottimeNs", Napi::Function::New<BoottimeNs>(env, "boottimeNs"));
  exports.Set("realtimeNs", Napi::Function::New<RealtimeNs>(env, "realtimeNs"));
}

}  // namespace tycho
