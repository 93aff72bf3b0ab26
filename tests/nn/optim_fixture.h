// Shared by test_optim.cpp, test_schedule.cpp and test_clip.cpp: the torch
// fixture tests/fixtures/optim_parity.json (made by make_optim_fixtures.py),
// the fixture's parameters, and the closeness check.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "graft.h"
#include "nn/optim/options_json.h"

namespace optim_test {

using nlohmann::json;

inline const json& fixture() {
    static const json loaded = [] {
        const std::string path = std::string(GRAFT_FIXTURES_DIR) + "/optim_parity.json";
        const std::string regenerate = "regenerate with: /usr/bin/python3 tests/fixtures/make_optim_fixtures.py";
        std::ifstream in(path);
        if (!in) throw graft::Error("cannot open " + path + "; " + regenerate);
        json j = json::parse(in);
        if (j.value("format", "") != "graft-optim-fixture/1")
            throw graft::Error(path + " has format '" + j.value("format", "") + "', expected graft-optim-fixture/1; " +
                               regenerate);
        return j;
    }();
    return loaded;
}

inline const json& find_case(const char* section, const std::string& name) {
    for (const json& c : fixture()[section])
        if (c["name"] == name) return c;
    throw graft::Error("no case '" + name + "' in the fixture's " + section);
}

// The fixture's three tensors (A [2, 3], B [4], C [3]) as fresh leaves.
inline std::vector<graft::Tensor> make_params(graft::DType dtype = graft::DType::Float64) {
    std::vector<graft::Tensor> params;
    const json& f = fixture();
    for (size_t i = 0; i < f["shapes"].size(); ++i) {
        auto values = f["initial"][i].get<std::vector<double>>();
        graft::Tensor t = graft::from_vector(values, f["shapes"][i].get<graft::Shape>()).to(dtype);
        t.requires_grad_(true);
        params.push_back(t);
    }
    return params;
}

inline graft::optim::Options options_from(const json& j) {
    return graft::optim::options_from_json(j, "fixture", "fixture options");
}

// |got - want| <= rtol * |want| + atol, element by element, with the first
// difference in the message.
inline void require_close(const std::vector<double>& got, const std::vector<double>& want, double rtol,
                          const std::string& what, double atol = 1e-12) {
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        INFO(what << " element " << i << std::setprecision(17) << ": got " << got[i] << ", torch " << want[i]);
        REQUIRE(std::abs(got[i] - want[i]) <= rtol * std::abs(want[i]) + atol);
    }
}

}  // namespace optim_test
