// Device: where a tensor's storage lives. CPU always; CUDA when the build has it
// (GRAFT_CUDA) and the machine has a GPU. Ops dispatch on (device, dtype).
#pragma once

#include <cstdint>
#include <string>

namespace graft {

enum class DeviceType : uint8_t { CPU, CUDA };
inline constexpr int kNumDeviceTypes = 2;

struct Device {
    DeviceType type = DeviceType::CPU;
    int index = 0;

    static Device cpu() { return {DeviceType::CPU, 0}; }
    static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
    bool is_cpu() const { return type == DeviceType::CPU; }
    bool is_cuda() const { return type == DeviceType::CUDA; }
    bool operator==(const Device&) const = default;
    std::string str() const;  // "cpu", "cuda:0"
};

// True when Graft was built with CUDA and a GPU answers.
bool cuda_available();
int cuda_device_count();
// Why cuda_available() is false, for skip messages ("built without GRAFT_CUDA", ...).
std::string cuda_unavailable_reason();

}  // namespace graft
