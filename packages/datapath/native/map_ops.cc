// Map element operations on a map fd, with keys and values in Buffers.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"
#include "exports.h"

namespace tycho {

namespace {

int FdArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) ThrowType(info.Env(), "map fd must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsBuffer()) ThrowType(info.Env(), std::string(what) + " must be a Buffer");
  return info[i].As<Napi::Buffer<uint8_t>>();
}

// mapLookup(fd, key, valueOut): boolean, false when the key is absent.
Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto key = BufferArg(info, 1, "key");
  auto value = BufferArg(info, 2, "value");
  if (bpf_map_lookup_elem(fd, key.Data(), value.Data()) < 0) {
    int err = errno;
    if (err == ENOENT) return Napi::Boolean::New(info.Env(), false);
    ThrowErrno(info.Env(), "bpf_map_lookup_elem on " + MapLabel(fd), err);
  }
  return Napi::Boolean::New(info.Env(), true);
}

// mapUpdate(fd, key, value, flags): BPF_ANY 0, BPF_NOEXIST 1, BPF_EXIST 2.
Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto key = BufferArg(info, 1, "key");
  auto value = BufferArg(info, 2, "value");
  uint64_t flags = info[3].IsNumber() ? info[3].As<Napi::Number>().Int64Value() : static_cast<int64_t>(BPF_ANY);
  if (bpf_map_update_elem(fd, key.Data(), value.Data(), flags) < 0) {
    int err = errno;
    ThrowErrno(info.Env(), "bpf_map_update_elem on " + MapLabel(fd), err);
  }
  return info.Env().Undefined();
}

// mapDelete(fd, key): boolean, false when the key was absent.
Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto key = BufferArg(info, 1, "key");
  if (bpf_map_delete_elem(fd, key.Data()) < 0) {
    int err = errno;
    if (err == ENOENT) return Napi::Boolean::New(info.Env(), false);
    ThrowErrno(info.Env(), "bpf_map_delete_elem on " + MapLabel(fd), err);
  }
  return Napi::Boolean::New(info.Env(), true);
}

// mapNextKey(fd, key | null, nextOut): boolean, false after the last key.
Napi::Value MapNextKey(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  const void* key = nullptr;
  if (!info[1].IsNull() && !info[1].IsUndefined()) key = BufferArg(info, 1, "key").Data();
  auto next = BufferArg(info, 2, "next key");
  if (bpf_map_get_next_key(fd, key, next.Data()) < 0) {
    int err = errno;
    if (err == ENOENT) return Napi::Boolean::New(info.Env(), false);
    ThrowErrno(info.Env(), "bpf_map_get_next_key on " + MapLabel(fd), err);
  }
  return Napi::Boolean::New(info.Env(), true);
}

// mapOpenPinned(path): fd of a map pinned in bpffs, to be closed with closeFd.
Napi::Value MapOpenPinned(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) {
    int err = errno;
    ThrowErrno(info.Env(), "opening pinned BPF object " + path, err);
  }
  struct bpf_map_info map = {};
  __u32 len = sizeof(map);
  if (bpf_obj_get_info_by_fd(fd, &map, &len) < 0) {
    int err = errno;
    close(fd);
    ThrowErrno(info.Env(), "reading map info of " + path, err);
  }
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("name", map.name);
  out.Set("fd", fd);
  out.Set("type", map.type);
  out.Set("keySize", map.key_size);
  out.Set("valueSize", map.value_size);
  out.Set("maxEntries", map.max_entries);
  return out;
}

// arrayMapCreate(name, values, mapFlags): fd of a new BPF_MAP_TYPE_ARRAY of
// __u32 holding `values` (u32 little-endian, one per entry), to be inserted
// into a map of maps (e.g. a Maglev table) and then closed with closeFd.
Napi::Value ArrayMapCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) ThrowType(env, "array map name must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  auto values = BufferArg(info, 1, "values");
  if (!info[2].IsNumber()) ThrowType(env, "map flags must be a number");
  uint32_t entries = static_cast<uint32_t>(values.Length() / sizeof(uint32_t));
  if (entries == 0 || values.Length() % sizeof(uint32_t) != 0) ThrowType(env, "values must be a non-empty whole number of u32");
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = info[2].As<Napi::Number>().Uint32Value());
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name.c_str(), sizeof(uint32_t), sizeof(uint32_t), entries, &opts);
  if (fd < 0) {
    int err = errno;
    ThrowErrno(env, "bpf_map_create of array " + name + " (" + std::to_string(entries) + " entries)", err);
  }
  std::vector<uint32_t> keys(entries);
  for (uint32_t i = 0; i < entries; i++) keys[i] = i;
  uint32_t count = entries;
  if (bpf_map_update_batch(fd, keys.data(), values.Data(), &count, nullptr) < 0 || count != entries) {
    int err = errno;
    close(fd);
    ThrowErrno(env, "bpf_map_update_batch of array " + name, err ? err : EIO);
  }
  return Napi::Number::New(env, fd);
}

// mapFdById(id): fd of the map with this id (e.g. an inner map a map of maps
// returns on lookup), to be closed with closeFd.
Napi::Value MapFdById(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) ThrowType(info.Env(), "map id must be a number");
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  int fd = bpf_map_get_fd_by_id(id);
  if (fd < 0) {
    int err = errno;
    ThrowErrno(info.Env(), "bpf_map_get_fd_by_id(" + std::to_string(id) + ")", err);
  }
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  close(FdArg(info, 0));
  return info.Env().Undefined();
}

Napi::Value PossibleCpus(const Napi::CallbackInfo& info) {
  int n = libbpf_num_possible_cpus();
  if (n < 0) ThrowErrno(info.Env(), "counting possible CPUs", -n);
  return Napi::Number::New(info.Env(), n);
}

}  // namespace

void InitMapOps(Napi::Env env, Napi::Object exports) {
  exports.Set("mapLookup", Napi::Function::New<MapLookup>(env, "mapLookup"));
  exports.Set("mapUpdate", Napi::Function::New<MapUpdate>(env, "mapUpdate"));
  exports.Set("mapDelete", Napi::Function::New<MapDelete>(env, "mapDelete"));
  exports.Set("mapNextKey", Napi::Function::New<MapNextKey>(env, "mapNextKey"));
  exports.Set("mapOpenPinned", Napi::Function::New<MapOpenPinned>(env, "mapOpenPinned"));
  exports.Set("arrayMapCreate", Napi::Function::New<ArrayMapCreate>(env, "arrayMapCreate"));
  exports.Set("mapFdById", Napi::Function::New<MapFdById>(env, "mapFdById"));
  exports.Set("closeFd", Napi::Function::New<CloseFd>(env, "closeFd"));
  exports.Set("possibleCpus", Napi::Function::New<PossibleCpus>(env, "possibleCpus"));
}

}  // namespace tycho
