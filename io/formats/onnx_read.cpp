// read_onnx (onnx.h): map the file, parse the ModelProto with libonnx_proto,
// and turn graph.initializer (and, when asked, Constant nodes) into tensors.
#include "io/formats/onnx.h"

#include "core/error.h"

#if defined(GRAFT_HAVE_ONNX)

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <map>

#include "io/formats/onnx_tensor.h"

namespace graft::io {

namespace {

using onnx_detail::TensorContext;

// Parses the file from a private read-only map (no copy of the file's bytes
// besides the ones protobuf keeps).
void parse_file(const std::string& path, const std::string& where, onnx::ModelProto& model) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    check(fd >= 0, where.c_str(), "cannot open the file: ", std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    check(::fstat(fd, &st) == 0, where.c_str(), "cannot stat the file: ", std::strerror(errno));
    check(S_ISREG(st.st_mode), where.c_str(), "not a regular file");
    // protobuf refuses messages of 2 GiB and more; big models keep weights outside.
    check(st.st_size < INT_MAX, where.c_str(), "the file is ", uint64_t(st.st_size),
          " bytes; an ONNX protobuf must be under 2 GiB (larger models keep their weights as external data)");
    const size_t size = size_t(st.st_size);
    bool parsed = false;
    if (size == 0) {
        parsed = model.ParseFromArray("", 0);
    } else {
        void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
        check(addr != MAP_FAILED, where.c_str(), "cannot map the file: ", std::strerror(errno));
        parsed = model.ParseFromArray(addr, int(size));
        ::munmap(addr, size);
    }
    check(parsed, where.c_str(), "not a valid ONNX protobuf (", size,
          " bytes: truncated, corrupt or another format)");
}

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

// A Constant node's value as a tensor, or an undefined Tensor for the kinds
// Graft has no dtype for (strings, sparse).
Tensor constant_value(const onnx::NodeProto& node, const std::string& label, const TensorContext& ctx) {
    using A = onnx::AttributeProto;
    static const std::map<std::string, A::AttributeType> kinds = {
        {"value", A::TENSOR}, {"value_float", A::FLOAT}, {"value_floats", A::FLOATS},
        {"value_int", A::INT}, {"value_ints", A::INTS}};
    for (const auto& attr : node.attribute()) {
        const std::string& name = attr.name();
        const auto kind = kinds.find(name);
        if (kind != kinds.end())
            check(!attr.has_type() || attr.type() == kind->second, ctx.where.c_str(), label, ": attribute '", name,
                  "' has type ", A::AttributeType_Name(attr.type()), ", expected ", A::AttributeType_Name(kind->second));
        if (name == "value") {
            check(attr.has_t(), ctx.where.c_str(), label, ": attribute 'value' holds no tensor");
            return onnx_detail::tensor_from_proto(attr.t(), label, ctx);
        }
        if (name == "value_float") {
            Tensor t = Tensor::empty({}, DType::Float32);
            *t.data<float>() = attr.f();
            return t;
        }
        if (name == "value_int") {
            Tensor t = Tensor::empty({}, DType::Int64);
            *t.data<int64_t>() = attr.i();
            return t;
        }
        if (name == "value_floats") {
            Tensor t = Tensor::empty({int64_t(attr.floats_size())}, DType::Float32);
            if (attr.floats_size()) std::memcpy(t.raw_data(), attr.floats().data(), sizeof(float) * size_t(attr.floats_size()));
            return t;
        }
        if (name == "value_ints") {
            Tensor t = Tensor::empty({int64_t(attr.ints_size())}, DType::Int64);
            if (attr.ints_size()) std::memcpy(t.raw_data(), attr.ints().data(), sizeof(int64_t) * size_t(attr.ints_size()));
            return t;
        }
    }
    return Tensor();
}

void add(NamedTensors& out, const std::string& name, Tensor t, const OnnxReadOptions& options, const std::string& label,
         const std::string& where) {
    check(!out.contains(name), where.c_str(), label, ": the name appears twice");
    if (options.convert_to_float32 &&
        (t.dtype() == DType::Float16 || t.dtype() == DType::BFloat16 || t.dtype() == DType::Float64))
        t = t.to(DType::Float32);
    out.set(name, t);
}

}  // namespace

bool onnx_supported() { return true; }

NamedTensors read_onnx(const std::string& path, const OnnxReadOptions& options) {
    const std::string where = "read_onnx: " + path;
    auto owner = std::make_shared<onnx::ModelProto>();
    onnx::ModelProto& model = *owner;
    parse_file(path, where, model);
    check(model.has_graph(), where.c_str(), "the model has no graph (is this an ONNX model file?)");
    const onnx::GraphProto& graph = model.graph();
    check(graph.sparse_initializer_size() == 0, where.c_str(), "the graph has ", graph.sparse_initializer_size(),
          " sparse initializer(s) (the first: '",
          graph.sparse_initializer_size() ? graph.sparse_initializer(0).values().name() : std::string(),
          "'); Graft does not read sparse tensors");

    TensorContext ctx;
    ctx.where = where;
    ctx.model_dir = std::filesystem::path(path).parent_path().string();
    ctx.owner = owner;

    NamedTensors out;
    out.metadata["format"] = "onnx";
    out.metadata["ir_version"] = std::to_string(model.ir_version());
    out.metadata["producer_name"] = model.producer_name();
    out.metadata["producer_version"] = model.producer_version();
    out.metadata["opset"] = "";
    for (const auto& opset : model.opset_import()) {
        if (is_default_domain(opset.domain()))
            out.metadata["opset"] = std::to_string(opset.version());
        else
            out.metadata["opset." + opset.domain()] = std::to_string(opset.version());
    }

    for (int i = 0; i < graph.initializer_size(); ++i) {
        const onnx::TensorProto& proto = graph.initializer(i);
        const std::string label = cat_str("initializer ", i, " '", proto.name(), "'");
        check(!proto.name().empty(), where.c_str(), "initializer ", i, " has no name");
        add(out, proto.name(), onnx_detail::tensor_from_proto(proto, label, ctx), options, label, where);
    }
    if (options.include_constants) {
        for (const auto& node : graph.node()) {
            if (node.op_type() != "Constant" || !is_default_domain(node.domain()) || node.output_size() < 1) continue;
            const std::string& name = node.output(0);
            const std::string label = cat_str("Constant node '", node.name(), "' (output '", name, "')");
            check(!name.empty(), where.c_str(), label, ": empty output name");
            Tensor t = constant_value(node, label, ctx);
            if (t.defined()) add(out, name, t, options, label, where);
        }
    }
    return out;
}

}  // namespace graft::io

#else  // built without libonnx-dev

namespace graft::io {

bool onnx_supported() { return false; }

NamedTensors read_onnx(const std::string& path, const OnnxReadOptions&) {
    throw Error(cat_str("read_onnx: ", path, ": Graft was built without ONNX support (libonnx-dev was not found ",
                        "when it was configured; tools/setup.sh installs it)"));
}

}  // namespace graft::io

#endif
