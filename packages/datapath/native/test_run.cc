// BPF_PROG_TEST_RUN: runs a loaded program on a buffer, in the kernel.
#include <bpf/bpf.h>
#include <errno.h>

#include <algorithm>
#include <string>
#include <vector>

#include "errors.h"
#include "exports.h"

namespace tycho {

namespace {

// testRun(progFd, dataIn: Buffer, repeat: number, ctxIn?: Buffer)
//   -> { retval, durationNs, dataOut: Buffer, ctxOut?: Buffer }
Napi::Value TestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) ThrowType(env, "testRun: program fd must be a number");
  if (!info[1].IsBuffer()) ThrowType(env, "testRun: data must be a Buffer");
  int prog_fd = info[0].As<Napi::Number>().Int32Value();
  auto data_in = info[1].As<Napi::Buffer<uint8_t>>();
  int repeat = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 1;

  // Programs may grow the packet; leave room for that.
  std::vector<uint8_t> data_out(std::max<size_t>(data_in.Length() * 2, 4096));
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data_in.Data(), .data_out = data_out.data(),
              .data_size_in = static_cast<__u32>(data_in.Length()),
              .data_size_out = static_cast<__u32>(data_out.size()));
  opts.repeat = repeat;

  std::vector<uint8_t> ctx_out;
  if (info[3].IsBuffer()) {
    auto ctx_in = info[3].As<Napi::Buffer<uint8_t>>();
    ctx_out.resize(ctx_in.Length());
    opts.ctx_in = ctx_in.Data();
    opts.ctx_size_in = static_cast<__u32>(ctx_in.Length());
    opts.ctx_out = ctx_out.data();
    opts.ctx_size_out = static_cast<__u32>(ctx_out.size());
  }

  int ret = bpf_prog_test_run_opts(prog_fd, &opts);
  if (ret < 0) {
    ThrowErrno(env, "BPF_PROG_TEST_RUN of program fd " + std::to_string(prog_fd) + " on " +
                        std::to_string(data_in.Length()) + " bytes",
               -ret);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("retval", Napi::Number::New(env, opts.retval));
  out.Set("durationNs", Napi::Number::New(env, opts.duration));
  out.Set("dataOut", Napi::Buffer<uint8_t>::Copy(env, data_out.data(), opts.data_size_out));
  if (opts.ctx_out) {
    out.Set("ctxOut", Napi::Buffer<uint8_t>::Copy(env, ctx_out.data(), opts.ctx_size_out));
  }
  return out;
}

}  // namespace

void InitTestRun(Napi::Env env, Napi::Object exports) {
  exports.Set("testRun", Napi::Function::New<TestRun>(env, "testRun"));
}

}  // namespace tycho
