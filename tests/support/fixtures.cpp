#include "tests/support/fixtures.h"

#include <cmath>
#include <fstream>

namespace graft::testing {

nlohmann::json load_fixture(const std::string& name) {
    const std::string path = std::string(GRAFT_FIXTURES_DIR) + "/" + name;
    std::ifstream in(path);
    if (!in) throw Error(cat_str("fixture ", path, " is missing; regenerate it with the script in tests/fixtures/"));
    return nlohmann::json::parse(in);
}

Tensor tensor_from_json(const nlohmann::json& j) {
    Shape shape = j.at("shape").get<Shape>();
    const std::string dtype = j.at("dtype").get<std::string>();
    if (dtype == "int64") return from_vector(j.at("data").get<std::vector<int64_t>>(), shape);
    Tensor t = from_vector(j.at("data").get<std::vector<double>>(), shape);
    if (dtype == "float32") return t.to(DType::Float32);
    check(dtype == "float64", "tensor_from_json", "unsupported fixture dtype ", dtype);
    return t;
}

double closeness(const Tensor& actual, const Tensor& expected, double atol, double rtol) {
    check(actual.shape() == expected.shape(), "closeness", "shape ", describe(actual), " vs expected ",
          describe(expected));
    const auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double r = std::fabs(a[i] - e[i]) / (atol + rtol * std::fabs(e[i]));
        if (!(r <= worst)) worst = std::isnan(r) ? INFINITY : r;
    }
    return worst;
}

nlohmann::json load_fixture(const std::string& name, const std::string& format) {
    nlohmann::json f = load_fixture(name);
    if (f.value("format", "") != format)
        throw Error(name + " has an unknown format (want " + format + "); regenerate with: " +
                    f.value("command", std::string()));
    return f;
}

double rel_err(const Tensor& actual, const Tensor& expected) {
    check(actual.shape() == expected.shape(), "rel_err", "shape ", describe(actual), " vs expected ",
          describe(expected));
    const auto a = actual.detach().to(DType::Float64).contiguous().to_vector<double>();
    const auto e = expected.detach().to(DType::Float64).contiguous().to_vector<double>();
    double err = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(a[i] - e[i]);
        err = std::isnan(d) ? INFINITY : std::max(err, d);
        scale = std::max(scale, std::fabs(e[i]));
    }
    return scale > 0 ? err / scale : err;
}

}  // namespace graft::testing
