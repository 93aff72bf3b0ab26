// SmallVector: a vector that keeps its first N elements inline and only touches
// the heap beyond that. Used on per-op hot paths (iteration shapes, strides),
// where a heap allocation costs more than the arithmetic of a tiny op. Holds
// trivially copyable elements only.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <type_traits>

namespace graft {

template <typename T, size_t N>
class SmallVector {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    SmallVector() = default;
    SmallVector(size_t count, T value) { resize(count, value); }
    SmallVector(const SmallVector& other) { assign(other.data(), other.size()); }
    SmallVector& operator=(const SmallVector& other) {
        if (this != &other) { size_ = 0; assign(other.data(), other.size()); }
        return *this;
    }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    T* data() { return heap_ ? heap_.get() : inline_; }
    const T* data() const { return heap_ ? heap_.get() : inline_; }
    T& operator[](size_t i) { return data()[i]; }
    const T& operator[](size_t i) const { return data()[i]; }
    T& back() { return data()[size_ - 1]; }
    const T& back() const { return data()[size_ - 1]; }
    T* begin() { return data(); }
    T* end() { return data() + size_; }
    const T* begin() const { return data(); }
    const T* end() const { return data() + size_; }

    void push_back(T value) {
        reserve(size_ + 1);
        data()[size_++] = value;
    }
    void resize(size_t count, T value = T()) {
        reserve(count);
        for (size_t i = size_; i < count; ++i) data()[i] = value;
        size_ = count;
    }

private:
    void reserve(size_t count) {
        if (count <= capacity_) return;
        size_t cap = capacity_ * 2;
        if (cap < count) cap = count;
        std::unique_ptr<T[]> grown(new T[cap]);
        std::memcpy(grown.get(), data(), size_ * sizeof(T));
        heap_ = std::move(grown);
        capacity_ = cap;
    }
    void assign(const T* src, size_t count) {
        reserve(count);
        std::memcpy(data(), src, count * sizeof(T));
        size_ = count;
    }

    T inline_[N] = {};
    std::unique_ptr<T[]> heap_;
    size_t size_ = 0;
    size_t capacity_ = N;
};

}  // namespace graft
