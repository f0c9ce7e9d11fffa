// BpfObject: a compiled eBPF object opened and loaded by libbpf, with maps
// pinned by name under a pin root (existing pins are reused, so state such
// as conntrack survives an agent restart).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <string>

#include "errors.h"
#include "exports.h"

namespace tycho {

namespace {

// libbpf's messages (the verifier log among them) for the current operation,
// attached to the error when it fails, silent otherwise.
thread_local std::string libbpf_log;
constexpr size_t kLogTail = 16 * 1024;

int CaptureLibbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  va_list measure;
  va_copy(measure, args);
  int n = vsnprintf(nullptr, 0, format, measure);
  va_end(measure);
  if (n <= 0) return n;
  std::string message(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(message.data(), message.size(), format, args);
  message.resize(static_cast<size_t>(n));
  libbpf_log.append(message);
  if (libbpf_log.size() > 4 * kLogTail) libbpf_log.erase(0, libbpf_log.size() - kLogTail);
  return n;
}

std::string LogTail() {
  if (libbpf_log.size() <= kLogTail) return libbpf_log;
  return "..." + libbpf_log.substr(libbpf_log.size() - kLogTail);
}

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeBpfObject",
                       {
                           InstanceMethod<&BpfObject::ProgramFd>("programFd"),
                           InstanceMethod<&BpfObject::MapInfo>("mapInfo"),
                           InstanceMethod<&BpfObject::ProgramNames>("programNames"),
                           InstanceMethod<&BpfObject::MapNames>("mapNames"),
                           InstanceMethod<&BpfObject::Close>("close"),
                       });
  }

  // new NativeBpfObject(path: string, pinRoot: string | undefined)
  explicit BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) ThrowType(env, "BpfObject: path must be a string");
    path_ = info[0].As<Napi::String>().Utf8Value();
    std::string pin_root;
    if (info[1].IsString()) pin_root = info[1].As<Napi::String>().Utf8Value();

    LIBBPF_OPTS(bpf_object_open_opts, opts);
    if (!pin_root.empty()) opts.pin_root_path = pin_root.c_str();

    libbpf_log.clear();
    obj_ = bpf_object__open_file(path_.c_str(), &opts);
    if (!obj_) {
      int err = errno;
      obj_ = nullptr;
      ThrowErrno(env, "opening BPF object " + path_, err, LogTail());
    }
    if (pin_root.empty()) {
      // libbpf would pin LIBBPF_PIN_BY_NAME maps under /sys/fs/bpf; without
      // a pin root nothing is pinned or reused.
      bpf_map* map;
      bpf_object__for_each_map(map, obj_) bpf_map__set_pin_path(map, nullptr);
    }
    int ret = bpf_object__load(obj_);
    if (ret < 0) {
      bpf_object__close(obj_);
      obj_ = nullptr;
      std::string where = "loading BPF object " + path_;
      if (!pin_root.empty()) where += " (pin root " + pin_root + ")";
      ThrowErrno(env, where, -ret, LogTail());
    }
    libbpf_log.clear();
  }

  ~BpfObject() override {
    if (obj_) bpf_object__close(obj_);
  }

 private:
  bpf_object* Object(Napi::Env env) {
    if (!obj_) ThrowErrno(env, "BPF object " + path_ + " is closed", EBADF);
    return obj_;
  }

  Napi::Value ProgramFd(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = info[0].As<Napi::String>().Utf8Value();
    bpf_program* prog = bpf_object__find_program_by_name(Object(env), name.c_str());
    if (!prog) ThrowErrno(env, "no program '" + name + "' in " + path_, ENOENT);
    return Napi::Number::New(env, bpf_program__fd(prog));
  }

  Napi::Value MapInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = info[0].As<Napi::String>().Utf8Value();
    bpf_map* map = bpf_object__find_map_by_name(Object(env), name.c_str());
    if (!map) ThrowErrno(env, "no map '" + name + "' in " + path_, ENOENT);
    Napi::Object out = Napi::Object::New(env);
    out.Set("name", name);
    out.Set("fd", bpf_map__fd(map));
    out.Set("type", static_cast<double>(bpf_map__type(map)));
    out.Set("keySize", bpf_map__key_size(map));
    out.Set("valueSize", bpf_map__value_size(map));
    out.Set("maxEntries", bpf_map__max_entries(map));
    return out;
  }

  Napi::Value ProgramNames(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array names = Napi::Array::New(env);
    bpf_program* prog;
    uint32_t i = 0;
    bpf_object__for_each_program(prog, Object(env)) names.Set(i++, bpf_program__name(prog));
    return names;
  }

  Napi::Value MapNames(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array names = Napi::Array::New(env);
    bpf_map* map;
    uint32_t i = 0;
    // Only maps the object declares, not libbpf's own (.kconfig, .rodata, ...).
    bpf_object__for_each_map(map, Object(env)) {
      if (!bpf_map__is_internal(map)) names.Set(i++, bpf_map__name(map));
    }
    return names;
  }

  // Closes program and map fds. Pins and tc attachments keep their objects alive.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (obj_) {
      bpf_object__close(obj_);
      obj_ = nullptr;
    }
    return info.Env().Undefined();
  }

  std::string path_;
  bpf_object* obj_ = nullptr;
};

}  // namespace

void InitBpfObject(Napi::Env env, Napi::Object exports) {
  libbpf_set_print(CaptureLibbpfPrint);
  exports.Set("NativeBpfObject", BpfObject::Define(env));
}

}  // namespace tycho
