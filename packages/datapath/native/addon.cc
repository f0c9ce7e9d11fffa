// Entry point of the tycho_datapath addon: a thin layer over libbpf.
#include "exports.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tycho::InitBpfObject(env, exports);
  tycho::InitMapOps(env, exports);
  tycho::InitTc(env, exports);
  tycho::InitTcx(env, exports);
  tycho::InitCgroup(env, exports);
  tycho::InitProgramInfo(env, exports);
  tycho::InitRingBufferReader(env, exports);
  tycho::InitTestRun(env, exports);
  tycho::InitBtfLayout(env, exports);
  tycho::InitClock(env, exports);
  tycho::InitNetdev(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(tycho_datapath, Init)
