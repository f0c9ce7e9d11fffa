// BPF links kept alive by a pin in bpffs, shared by the tcx and cgroup hooks.
#pragma once

#include <napi.h>

#include <string>

namespace tycho {

// The string argument at `index`, or a TypeError naming it.
std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name);

// Points the link pinned at pin_path at the program. False when there is no
// usable link there: none pinned, or one whose hook is gone (a defunct link,
// ENOLINK), which is unpinned so a fresh link can take its place.
bool UpdatePinnedLink(Napi::Env env, const std::string& pin_path, int prog_fd, const std::string& label);

// Detaches the link pinned at pin_path, whoever else holds it open, and
// unpins it. False when nothing was pinned there.
bool DetachPinnedLink(Napi::Env env, const std::string& pin_path);

}  // namespace tycho
