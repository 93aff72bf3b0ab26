// Tensor::str(): PyTorch's tensor printing (torch/_tensor_str.py) with its
// default options (precision 4, linewidth 80, threshold 1000, edgeitems 3).
//   tensor([[ 0.1234, -1.5000],
//           [ 2.0000,  3.0000]], grad_fn=<mul>)
// One formatter picks a common width and style for every printed value: fixed
// with 4 decimals, integer-valued floats as "1.", or scientific when the
// magnitudes need it. Large tensors print their first and last 3 entries per
// dimension with "..." between. Suffixes name what the values cannot show:
// device (not cpu), size (empty or summarised), dtype (not float32, int64 or
// bool) and grad_fn or requires_grad. Printing never records autograd history.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/autograd/node.h"
#include "core/tensor.h"

namespace graft {

namespace {

// PyTorch's print options (torch/_tensor_str.py, class __PrinterOptions).
constexpr int kPrecision = 4;
constexpr int64_t kLineWidth = 80;
constexpr int64_t kThreshold = 1000;
constexpr int64_t kEdgeItems = 3;

// Reads elements of a CPU tensor at element offsets from its data pointer.
struct Reader {
    const char* base;
    DType dtype;
    bool floating;
    double real(int64_t offset) const {
        return visit_dtype(dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            return double(reinterpret_cast<const T*>(base)[offset]);
        });
    }
    int64_t integer(int64_t offset) const {
        return visit_dtype(dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) return int64_t(float(reinterpret_cast<const T*>(base)[offset]));
            else return int64_t(reinterpret_cast<const T*>(base)[offset]);
        });
    }
};

std::string format_fixed(double v, const char* spec) {
    if (std::isnan(v)) return "nan";  // also for negative NaN, as Python
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, spec, kPrecision, v);
    return buf;
}

// PyTorch's _Formatter: one width and style for all values of a tensor.
class Formatter {
public:
    Formatter(const Reader& reader, const std::vector<int64_t>& offsets) : reader_(reader) {
        if (!reader.floating) {
            for (int64_t off : offsets) width_ = std::max(width_, int64_t(plain(off).size()));
            return;
        }
        std::vector<double> vals;
        for (int64_t off : offsets) {
            const double v = reader.real(off);
            if (std::isfinite(v) && v != 0.0) vals.push_back(v);
        }
        if (vals.empty()) return;  // all zero or non-finite: "0.", "nan", "inf"
        double lo = INFINITY, hi = 0;
        for (double v : vals) {
            lo = std::min(lo, std::fabs(v));
            hi = std::max(hi, std::fabs(v));
            if (v != std::ceil(v)) int_mode_ = false;
        }
        // Scientific when the range spans more than 3 decades or leaves the fixed grid.
        sci_mode_ = hi / lo > 1000.0 || hi > 1.0e8 || (!int_mode_ && lo < 1.0e-4);
        for (double v : vals) {
            const int64_t w = sci_mode_ ? int64_t(format_fixed(v, "%.*e").size())
                              : int_mode_ ? int64_t(format_fixed(v, "%.0f").size()) + 1  // the trailing "."
                                          : int64_t(format_fixed(v, "%.*f").size());
            width_ = std::max(width_, w);
        }
    }

    int64_t width() const { return width_; }

    std::string format(int64_t offset) const {
        std::string s = reader_.floating ? floating(reader_.real(offset)) : plain(offset);
        if (int64_t(s.size()) < width_) s.insert(0, size_t(width_ - int64_t(s.size())), ' ');
        return s;
    }

private:
    std::string plain(int64_t offset) const {
        if (reader_.dtype == DType::Bool) return reader_.integer(offset) ? "True" : "False";
        return std::to_string(reader_.integer(offset));
    }
    std::string floating(double v) const {
        if (sci_mode_) return format_fixed(v, "%.*e");
        if (!int_mode_) return format_fixed(v, "%.*f");
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.0f", v);
        return std::isfinite(v) ? std::string(buf) + "." : format_fixed(v, "%.0f");
    }

    Reader reader_;
    bool int_mode_ = true;
    bool sci_mode_ = false;
    int64_t width_ = 1;
};

// The indices printed along a dimension of `size`: all, or the edges when summarising.
std::vector<int64_t> shown_indices(int64_t size, bool summarize) {
    std::vector<int64_t> idx;
    if (summarize && size > 2 * kEdgeItems) {
        for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
        for (int64_t i = size - kEdgeItems; i < size; ++i) idx.push_back(i);
    } else {
        for (int64_t i = 0; i < size; ++i) idx.push_back(i);
    }
    return idx;
}

struct Layout {
    const Shape& sizes;
    const Strides& strides;
    bool summarize;
};

// The offsets of every printed element (PyTorch's get_summarized_data).
void collect(const Layout& l, size_t dim, int64_t offset, std::vector<int64_t>& out) {
    if (dim == l.sizes.size()) {
        out.push_back(offset);
        return;
    }
    for (int64_t i : shown_indices(l.sizes[dim], l.summarize)) collect(l, dim + 1, offset + i * l.strides[dim], out);
}

bool elided(const Layout& l, size_t dim, int64_t i) {
    return l.summarize && l.sizes[dim] > 2 * kEdgeItems && i == kEdgeItems;
}

// PyTorch's _vector_str: values wrapped to the line width.
std::string vector_str(const Layout& l, const Formatter& f, int64_t offset, int64_t indent) {
    const size_t dim = l.sizes.size() - 1;
    const int64_t per_line = std::max<int64_t>(1, (kLineWidth - indent) / (f.width() + 2));
    std::vector<std::string> items;
    const std::vector<int64_t> idx = shown_indices(l.sizes[dim], l.summarize);
    for (size_t k = 0; k < idx.size(); ++k) {
        if (elided(l, dim, int64_t(k))) items.push_back(" ...");
        items.push_back(f.format(offset + idx[k] * l.strides[dim]));
    }
    std::string s = "[";
    for (size_t k = 0; k < items.size(); ++k) {
        if (k > 0 && int64_t(k) % per_line == 0) s.append(",\n").append(size_t(indent + 1), ' ');
        else if (k > 0) s += ", ";
        s += items[k];
    }
    return s + "]";
}

// PyTorch's _tensor_str_with_formatter for dims >= dim.
std::string tensor_str(const Layout& l, const Formatter& f, size_t dim, int64_t offset, int64_t indent) {
    if (dim == l.sizes.size()) return f.format(offset);  // 0-d
    if (dim + 1 == l.sizes.size()) return vector_str(l, f, offset, indent);
    const size_t rest = l.sizes.size() - dim;
    std::string sep = ",";
    sep.append(rest - 1, '\n').append(size_t(indent + 1), ' ');
    const std::vector<int64_t> idx = shown_indices(l.sizes[dim], l.summarize);
    std::string s = "[";
    for (size_t k = 0; k < idx.size(); ++k) {
        if (k > 0) s += sep;
        if (elided(l, dim, int64_t(k))) s.append("...").append(sep);
        s += tensor_str(l, f, dim + 1, offset + idx[k] * l.strides[dim], indent + 1);
    }
    return s + "]";
}

// PyTorch's _add_suffixes: ", suffix" on the last line, or a new line when it would pass the width.
std::string add_suffixes(std::string s, const std::vector<std::string>& suffixes, int64_t indent) {
    const size_t nl = s.rfind('\n');
    // PyTorch computes len - rfind + 1, where rfind is -1 without a newline.
    int64_t last = int64_t(s.size()) - (nl == std::string::npos ? -1 : int64_t(nl)) + 1;
    for (const std::string& suffix : suffixes) {
        const int64_t len = int64_t(suffix.size());
        if (last + len + 2 > kLineWidth) {
            s.append(",\n").append(size_t(indent), ' ').append(suffix);
            last = indent + len;
        } else {
            s += ", " + suffix;
            last += len + 2;
        }
    }
    return s + ")";
}

// The values on the CPU, with 16-bit floats widened to float32 (as PyTorch).
Tensor host_copy(const Tensor& t) {
    Tensor host = t.detach();
    if (!host.device().is_cpu()) host = host.to(Device::cpu());
    if (host.dtype() == DType::Float16 || host.dtype() == DType::BFloat16) host = host.to(DType::Float32);
    return host;
}

}  // namespace

std::string Tensor::str() const {
    if (!defined()) return "tensor(undefined)";
    const std::string prefix = "tensor(";
    const int64_t indent = int64_t(prefix.size());
    std::vector<std::string> suffixes;
    if (!device().is_cpu()) suffixes.push_back("device='" + device().str() + "'");
    const bool default_dtype = dtype() == DType::Float32 || dtype() == DType::Int64 || dtype() == DType::Bool;
    std::string body;
    if (numel() == 0) {
        if (dim() != 1) suffixes.push_back("size=" + shape_str(shape()));
        if (dtype() != DType::Float32) suffixes.push_back(cat_str("dtype=", dtype_name(dtype())));
        body = "[]";
    } else {
        const bool summarize = numel() > kThreshold;
        if (summarize) suffixes.push_back("size=" + shape_str(shape()));
        if (!default_dtype) suffixes.push_back(cat_str("dtype=", dtype_name(dtype())));
        const Tensor host = host_copy(*this);
        const Reader reader{static_cast<const char*>(host.raw_data()), host.dtype(), is_floating(host.dtype())};
        const Layout layout{host.shape(), host.strides(), summarize};
        std::vector<int64_t> offsets;
        collect(layout, 0, 0, offsets);
        const Formatter formatter(reader, offsets);
        body = tensor_str(layout, formatter, 0, 0, indent);
    }
    if (const auto& fn = grad_fn()) suffixes.push_back(cat_str("grad_fn=<", fn->name(), ">"));
    else if (requires_grad()) suffixes.push_back("requires_grad=True");
    return add_suffixes(prefix + body, suffixes, indent);
}

}  // namespace graft
