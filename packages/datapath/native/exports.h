// Each native source registers its functions on the module's exports.
#pragma once

#include <napi.h>

namespace tycho {

void InitBpfObject(Napi::Env env, Napi::Object exports);
void InitMapOps(Napi::Env env, Napi::Object exports);
void InitTc(Napi::Env env, Napi::Object exports);
void InitTcx(Napi::Env env, Napi::Object exports);
void InitCgroup(Napi::Env env, Napi::Object exports);
void InitProgramInfo(Napi::Env env, Napi::Object exports);
void InitRingBufferReader(Napi::Env env, Napi::Object exports);
void InitTestRun(Napi::Env env, Napi::Object exports);
void InitBtfLayout(Napi::Env env, Napi::Object exports);
void InitClock(Napi::Env env, Napi::Object exports);
void InitNetdev(Napi::Env env, Napi::Object exports);

}  // namespace tycho
