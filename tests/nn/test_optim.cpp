// Optimizers: ten steps of SGD, Adam, AdamW and RMSprop against torch 1.13
// (tests/fixtures/optim_parity.json), frozen and gradient-less parameters,
// parameter groups with their own options, state_dict round trips and the
// errors load_state_dict gives.
#include "nn/optim/adam.h"
#include "nn/optim/adamw.h"
#include "nn/optim/rmsprop.h"
#include "nn/optim/sgd.h"
#include "optim_fixture.h"

using namespace graft;
using namespace optim_test;
using Catch::Matchers::Contains;

namespace {

std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& type, std::vector<optim::ParamGroup> groups,
                                                 const optim::Options& defaults) {
    if (type == "SGD") return std::make_unique<optim::SGD>(std::move(groups), defaults);
    if (type == "Adam") return std::make_unique<optim::Adam>(std::move(groups), defaults);
    if (type == "AdamW") return std::make_unique<optim::AdamW>(std::move(groups), defaults);
    if (type == "RMSprop") return std::make_unique<optim::RMSprop>(std::move(groups), defaults);
    throw Error("unknown optimizer " + type);
}

// The optimizer of a fixture case over `params`, groups as the case lists them.
std::unique_ptr<optim::Optimizer> make_case_optimizer(const json& c, const std::vector<Tensor>& params) {
    std::vector<optim::ParamGroup> groups;
    for (const json& g : c["groups"]) {
        optim::ParamGroup group{{}, options_from(g["options"]), ""};
        for (int64_t i : g["params"].get<std::vector<int64_t>>()) group.params.push_back(params[i]);
        groups.push_back(std::move(group));
    }
    return make_optimizer(c["optimizer"], std::move(groups), options_from(c["defaults"]));
}

// grad = p * p - 0.1 * k, in the parameter's dtype, as the fixture script does.
void set_fixture_grads(const std::vector<Tensor>& params, int k, const std::vector<int64_t>& no_grad = {}) {
    for (size_t i = 0; i < params.size(); ++i) {
        if (std::find(no_grad.begin(), no_grad.end(), int64_t(i)) != no_grad.end()) continue;
        const Tensor& p = params[i];
        Tensor g = empty_like(p);
        optim::visit_float(p.dtype(), "test", [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* x = p.data<T>();
            T* out = g.data<T>();
            for (int64_t j = 0; j < p.numel(); ++j) out[j] = x[j] * x[j] - T(0.1 * k);
        });
        p.set_grad(g);
    }
}

std::vector<double> values(const Tensor& t) { return t.to(DType::Float64).to_vector<double>(); }

std::vector<Tensor> copies(const std::vector<Tensor>& params) {
    std::vector<Tensor> out;
    for (const Tensor& p : params) {
        Tensor c = p.detach().clone();
        c.requires_grad_(true);
        out.push_back(c);
    }
    return out;
}

}  // namespace

TEST_CASE("optimizers match torch 1.13 for ten steps", "[optim]") {
    for (const json& c : fixture()["optimizers"]) {
        const std::string name = c["name"];
        SECTION(name) {
            const bool f32 = c["dtype"] == "float32";
            const double rtol = f32 ? 1e-5 : 1e-6;
            const auto no_grad = c["no_grad"].get<std::vector<int64_t>>();
            std::vector<Tensor> params = make_params(f32 ? DType::Float32 : DType::Float64);
            auto opt = make_case_optimizer(c, params);
            for (int k = 1; k <= fixture()["steps"].get<int>(); ++k) {
                set_fixture_grads(params, k, no_grad);
                opt->step();
                for (size_t i = 0; i < params.size(); ++i)
                    require_close(values(params[i]), c["after_step"][k - 1][i].get<std::vector<double>>(), rtol,
                                  cat_str(name, " step ", k, " param ", i), f32 ? 1e-7 : 1e-12);
            }
        }
    }
}

TEST_CASE("step skips frozen and gradient-less parameters and records no graph", "[optim]") {
    std::vector<Tensor> params = make_params();
    const std::vector<double> frozen_before = values(params[0]), idle_before = values(params[2]);
    params[0].requires_grad_(false);
    optim::SGD sgd(params, {.lr = 0.1, .momentum = 0.9});
    set_fixture_grads(params, 1);
    params[0].set_grad(ones_like(params[0]));  // a stale gradient on a frozen parameter
    params[2].set_grad(Tensor());
    const uint64_t v0 = params[0].version(), v1 = params[1].version(), v2 = params[2].version();
    sgd.step();
    CHECK(values(params[0]) == frozen_before);
    CHECK(values(params[2]) == idle_before);
    CHECK(params[0].version() == v0);
    CHECK(params[2].version() == v2);
    CHECK(params[1].version() > v1);
    CHECK(params[1].is_leaf());
    CHECK(params[1].grad_fn() == nullptr);
    const NamedTensors sd = sgd.state_dict();
    CHECK(sd.names() == std::vector<std::string>{"state.1.step", "state.1.momentum_buffer"});
}

TEST_CASE("large parameters update in threaded chunks element by element", "[optim]") {
    // Each element's update is independent, so the big tensor's elements must
    // equal one-element tensors stepped alone, wherever the chunks split.
    const int64_t n = 200003;
    auto fill = [](const Tensor& t, int64_t first) {
        double* x = t.data<double>();
        for (int64_t i = 0; i < t.numel(); ++i) x[i] = std::sin(0.001 * double(first + i));
    };
    Tensor big = empty({n}, DType::Float64);
    fill(big, 0);
    big.requires_grad_();
    optim::AdamW adamw({big}, {.lr = 0.01, .amsgrad = true});
    for (int k = 1; k <= 3; ++k) {
        set_fixture_grads({big}, k);
        adamw.step();
    }
    for (int64_t i : {int64_t(0), int64_t(32767), int64_t(32768), int64_t(131072), n - 1}) {
        Tensor one = empty({1}, DType::Float64);
        fill(one, i);
        one.requires_grad_();
        optim::AdamW alone({one}, {.lr = 0.01, .amsgrad = true});
        for (int k = 1; k <= 3; ++k) {
            set_fixture_grads({one}, k);
            alone.step();
        }
        CHECK(one.item<double>() == big.data<double>()[i]);
    }
}

TEST_CASE("zero_grad drops or zeroes gradients", "[optim]") {
    std::vector<Tensor> params = make_params();
    optim::Adam adam(params);
    set_fixture_grads(params, 1);
    adam.zero_grad(/*set_to_none=*/false);
    CHECK(params[1].grad().defined());
    CHECK(values(params[1].grad()) == std::vector<double>(4, 0.0));
    adam.zero_grad();
    CHECK(!params[1].grad().defined());
}

TEST_CASE("param groups take their own options and fill the rest from the optimizer's", "[optim]") {
    std::vector<Tensor> p = make_params();
    optim::SGD sgd({{.params = {p[0], p[1]}, .options = {.lr = 0.01}, .name = "trunk"},
                    {.params = {p[2]}, .options = {.momentum = 0.5, .nesterov = true}, .name = "head"}},
                   {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4});
    REQUIRE(sgd.num_groups() == 2);
    const optim::Options& trunk = sgd.param_groups()[0].options;
    const optim::Options& head = sgd.param_groups()[1].options;
    CHECK(*trunk.lr == 0.01);
    CHECK(*trunk.momentum == 0.9);
    CHECK(*trunk.weight_decay == 1e-4);
    CHECK(*trunk.dampening == 0.0);
    CHECK(!trunk.betas.has_value());  // not an SGD option
    CHECK(*head.lr == 0.1);
    CHECK(*head.momentum == 0.5);
    CHECK(*head.nesterov);
    sgd.set_lr(1, 0.2);
    CHECK(sgd.lr(1) == 0.2);
    CHECK(sgd.lr(0) == 0.01);

    Tensor extra = zeros({2}, DType::Float64).requires_grad_();
    sgd.add_param_group({.params = {extra}, .options = {.lr = 1.0}, .name = "extra"});
    CHECK(sgd.num_groups() == 3);
    CHECK(*sgd.param_groups()[2].options.momentum == 0.9);

    optim::AdamW adamw(make_params());
    CHECK(*adamw.defaults().weight_decay == 1e-2);  // torch's AdamW default
    CHECK((*adamw.defaults().betas)[1] == 0.999);
}

TEST_CASE("optimizer construction errors name the problem", "[optim]") {
    std::vector<Tensor> p = make_params();
    CHECK_THROWS_WITH(optim::SGD(p, {}), Contains("lr is required"));
    CHECK_THROWS_WITH(optim::SGD(p, {.lr = 0.1, .betas = {{0.9, 0.99}}}), Contains("'betas' is not used by SGD"));
    CHECK_THROWS_WITH(optim::SGD({{.params = {p[0]}, .options = {.alpha = 0.9}, .name = "head"}}, {.lr = 0.1}),
                      Contains("'alpha' in group 0 ('head') is not used by SGD"));
    CHECK_THROWS_WITH(optim::SGD(p, {.lr = 0.1, .nesterov = true}), Contains("Nesterov"));
    CHECK_THROWS_WITH(optim::Adam(p, {.betas = {{1.0, 0.9}}}), Contains("beta parameter at index 0"));
    CHECK_THROWS_WITH(optim::RMSprop(p, {.lr = -1.0}), Contains("invalid lr"));
    CHECK_THROWS_WITH(optim::SGD({{.params = {p[0]}}, {.params = {p[1], p[0]}}}, {.lr = 0.1}),
                      Contains("more than one place"));
    Tensor non_leaf = mul(p[0], 2.0);
    CHECK_THROWS_WITH(optim::SGD({non_leaf}, {.lr = 0.1}), Contains("not a leaf"));
    Tensor strided = zeros({3, 4}, DType::Float64).t().contiguous().t();
    CHECK_THROWS_WITH(optim::SGD({strided}, {.lr = 0.1}), Contains("not contiguous"));
    CHECK_THROWS_WITH(optim::SGD({zeros({3}, DType::Int64)}, {.lr = 0.1}), Contains("only float32 and float64"));
}

TEST_CASE("state_dict round trip continues exactly where it left off", "[optim]") {
    for (const char* name : {"sgd_groups", "adam_groups", "adamw_amsgrad", "rmsprop_groups", "rmsprop_centered"}) {
        SECTION(name) {
            const json& c = find_case("optimizers", name);
            std::vector<Tensor> straight = make_params(), resumed = make_params();
            auto opt_straight = make_case_optimizer(c, straight);
            auto opt_first = make_case_optimizer(c, resumed);
            for (int k = 1; k <= 4; ++k) {
                set_fixture_grads(straight, k);
                opt_straight->step();
                set_fixture_grads(resumed, k);
                opt_first->step();
            }
            const NamedTensors sd = opt_first->state_dict();
            // A new optimizer over copies of the parameters, with other options.
            std::vector<Tensor> restored = copies(resumed);
            json other = c;
            other["defaults"]["lr"] = 123.0;
            auto opt_second = make_case_optimizer(other, restored);
            opt_second->load_state_dict(sd);
            CHECK(opt_second->lr(0) == opt_first->lr(0));
            for (int k = 5; k <= 10; ++k) {
                set_fixture_grads(straight, k);
                opt_straight->step();
                set_fixture_grads(restored, k);
                opt_second->step();
            }
            for (size_t i = 0; i < straight.size(); ++i) {
                CHECK(values(restored[i]) == values(straight[i]));
                require_close(values(restored[i]), c["after_step"][9][i].get<std::vector<double>>(), 1e-6, name);
            }
        }
    }
}

TEST_CASE("load_state_dict names what differs and changes nothing on error", "[optim]") {
    std::vector<Tensor> p = make_params();
    optim::Adam adam({{.params = {p[0], p[1]}}, {.params = {p[2]}, .name = "head"}}, {.lr = 0.01});
    set_fixture_grads(p, 1);
    adam.step();
    const NamedTensors good = adam.state_dict();
    CHECK(good.metadata.at("optimizer") == "Adam");
    CHECK(good.contains("state.2.exp_avg_sq"));

    optim::SGD sgd(make_params(), {.lr = 0.1});
    CHECK_THROWS_WITH(sgd.load_state_dict(good), Contains("saved by Adam, not SGD"));

    std::vector<Tensor> q = make_params();
    optim::Adam one_group(q);
    CHECK_THROWS_WITH(one_group.load_state_dict(good), Contains("2 parameter groups, the optimizer has 1"));

    optim::Adam short_group({{.params = {q[0]}}, {.params = {q[2]}, .name = "head"}});
    CHECK_THROWS_WITH(short_group.load_state_dict(good),
                      Contains("group 0 has 2 parameters in the state and 1 in the optimizer"));

    Tensor wide = zeros({5}, DType::Float64).requires_grad_();
    optim::Adam other_shape({{.params = {q[0], q[1]}}, {.params = {wide}, .name = "head"}});
    CHECK_THROWS_WITH(other_shape.load_state_dict(good),
                      Contains("'state.2.exp_avg' has shape [3] but parameter 0 of group 1 ('head') has shape [5]"));

    NamedTensors odd = good;
    odd.set("state.0.velocity", zeros({2, 3}, DType::Float64));
    optim::Adam target({{.params = {q[0], q[1]}}, {.params = {q[2]}}});
    CHECK_THROWS_WITH(target.load_state_dict(odd), Contains("unexpected buffer 'velocity'"));
    NamedTensors bad_key = good;
    bad_key.set("momentum.0", zeros({1}));
    CHECK_THROWS_WITH(target.load_state_dict(bad_key), Contains("unexpected key 'momentum.0'"));
    NamedTensors bad_option = good;
    bad_option.metadata["param_groups"] = R"([{"lr": 0.1, "momentum": 0.9, "params": [0, 1]}, {"params": [2]}])";
    CHECK_THROWS_WITH(target.load_state_dict(bad_option), Contains("'momentum' in group 0 is not used by Adam"));
    // Nothing was loaded by the failed calls.
    CHECK(target.state_dict().size() == 0);
    CHECK(target.lr(0) == 1e-3);
    target.load_state_dict(good);
    CHECK(target.lr(0) == 0.01);
    CHECK(target.state_dict().size() == good.size());
}
