// Every differentiable op in the registry has at least one gradient check, and
// every registered check passes.
#include <catch2/catch.hpp>

#include "core/ops/registry.h"
#include "tests/support/grad_cases.h"

using namespace graft;

TEST_CASE("every differentiable op in the registry has a gradient check", "[gradcheck]") {
    std::vector<std::string> missing;
    for (const ops::OpInfo& op : ops::kOps)
        if (op.differentiable && testing::grad_cases().count(std::string(op.name)) == 0)
            missing.emplace_back(op.name);
    INFO("ops without a gradient check: " << Catch::Detail::stringify(missing));
    CHECK(missing.empty());
}

TEST_CASE("every gradient case names an op of the registry", "[gradcheck]") {
    for (const auto& [name, run] : testing::grad_cases()) {
        INFO(name);
        CHECK(ops::find_op(name) != nullptr);
    }
}

TEST_CASE("gradient checks", "[gradcheck]") {
    for (const auto& [name, run] : testing::grad_cases()) {
        SECTION(name) { run(); }
    }
}
