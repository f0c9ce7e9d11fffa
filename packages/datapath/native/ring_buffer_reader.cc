// RingBufferReader: drains a BPF ring buffer on the Node event loop.
// libbpf's epoll fd is watched with uv_poll (no timers, no threads); each
// wake-up consumes every available record into ONE Buffer of
// length-prefixed records and calls JavaScript once with it.
//
// Batch layout, repeated: u32 record length (little endian), the record,
// zero padding to the next multiple of 8.
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <uv.h>

#include <string>
#include <vector>

#include "errors.h"
#include "exports.h"

namespace tycho {

namespace {

// State the libuv close callback frees once the poll handle is gone.
struct PollState {
  uv_poll_t handle;
  ring_buffer* rb = nullptr;
};

class RingBufferReader : public Napi::ObjectWrap<RingBufferReader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeRingBufferReader",
                       {
                           InstanceMethod<&RingBufferReader::Close>("close"),
                           InstanceMethod<&RingBufferReader::Drain>("drain"),
                       });
  }

  // new NativeRingBufferReader(mapFd: number, onBatch: (batch: Buffer) => void)
  explicit RingBufferReader(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<RingBufferReader>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) ThrowType(env, "RingBufferReader: map fd must be a number");
    if (!info[1].IsFunction()) ThrowType(env, "RingBufferReader: callback must be a function");
    map_fd_ = info[0].As<Napi::Number>().Int32Value();
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "tycho:RingBufferReader");

    state_ = new PollState();
    state_->rb = ring_buffer__new(map_fd_, OnSample, this, nullptr);
    if (!state_->rb) {
      int err = errno;
      delete state_;
      state_ = nullptr;
      ThrowErrno(env, "ring_buffer__new on " + MapLabel(map_fd_), err);
    }
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    int ret = uv_poll_init(loop, &state_->handle, ring_buffer__epoll_fd(state_->rb));
    if (ret == 0) {
      state_->handle.data = this;
      ret = uv_poll_start(&state_->handle, UV_READABLE, OnReadable);
      if (ret != 0) {
        StopPolling();
      }
    } else {
      ring_buffer__free(state_->rb);
      delete state_;
      state_ = nullptr;
    }
    if (ret != 0) ThrowErrno(env, "polling ring buffer " + MapLabel(map_fd_), -ret);
    // Stay alive while polling, even if JavaScript drops its reference.
    Ref();
  }

  ~RingBufferReader() override { StopPolling(); }

 private:
  static int OnSample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<RingBufferReader*>(ctx);
    std::vector<uint8_t>& batch = self->batch_;
    size_t at = batch.size();
    size_t padded = (size + 7) & ~static_cast<size_t>(7);
    batch.resize(at + 8 + padded);
    uint32_t len = static_cast<uint32_t>(size);
    memcpy(batch.data() + at, &len, sizeof(len));
    memset(batch.data() + at + 4, 0, 4);
    memcpy(batch.data() + at + 8, data, size);
    if (padded != size) memset(batch.data() + at + 8 + size, 0, padded - size);
    return 0;
  }

  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<RingBufferReader*>(handle->data);
    if (status < 0 || !self) return;
    self->Deliver();
  }

  // Consumes what is available and hands it to JavaScript as one batch.
  void Deliver() {
    if (!state_) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    batch_.clear();
    int ret = ring_buffer__consume(state_->rb);
    if (ret < 0) {
      Napi::Error error = Napi::Error::New(
          env, "ring_buffer__consume on " + MapLabel(map_fd_) + ": " + strerror(-ret));
      napi_fatal_exception(env, error.Value());
      return;
    }
    if (batch_.empty()) return;
    Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::Copy(env, batch_.data(), batch_.size());
    batch_.clear();
    try {
      callback_.MakeCallback(env.Global(), {buffer}, *context_);
    } catch (const Napi::Error& error) {
      napi_fatal_exception(env, error.Value());
    }
  }

  // drain(): delivers whatever is in the ring now, without waiting for the loop.
  Napi::Value Drain(const Napi::CallbackInfo& info) {
    if (!state_) ThrowErrno(info.Env(), "ring buffer reader on map fd " + std::to_string(map_fd_) + " is closed", EBADF);
    Deliver();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (state_) {
      StopPolling();
      Unref();
    }
    return info.Env().Undefined();
  }

  void StopPolling() {
    if (!state_) return;
    PollState* state = state_;
    state_ = nullptr;
    uv_poll_stop(&state->handle);
    state->handle.data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&state->handle), [](uv_handle_t* handle) {
      PollState* s = reinterpret_cast<PollState*>(handle);
      ring_buffer__free(s->rb);
      delete s;
    });
  }

  int map_fd_ = -1;
  PollState* state_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::vector<uint8_t> batch_;
};

}  // namespace

void InitRingBufferReader(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeRingBufferReader", RingBufferReader::Define(env));
}

}  // namespace tycho
