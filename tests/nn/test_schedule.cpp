// Learning-rate schedules against torch 1.13 (tests/fixtures/optim_parity.json):
// every schedule's lrs (and OneCycleLR's momentum or beta1) for ~30 steps, the
// same after a state_dict round trip halfway, and the errors.
#include "nn/optim/adam.h"
#include "nn/optim/schedule.h"
#include "nn/optim/sgd.h"
#include "optim_fixture.h"

using namespace graft;
using namespace optim_test;
using Catch::Matchers::Contains;

namespace {

std::vector<double> doubles_or_one(const json& spec, const char* key, size_t groups) {
    if (spec[key].is_array()) return spec[key].get<std::vector<double>>();
    return std::vector<double>(groups, spec[key].get<double>());
}

optim::OneCycleOptions one_cycle_options(const json& s) {
    optim::OneCycleOptions o;
    o.pct_start = s.value("pct_start", o.pct_start);
    o.cos_anneal = s.value("anneal_strategy", "cos") == "cos";
    o.cycle_momentum = s.value("cycle_momentum", o.cycle_momentum);
    o.div_factor = s.value("div_factor", o.div_factor);
    o.final_div_factor = s.value("final_div_factor", o.final_div_factor);
    o.three_phase = s.value("three_phase", o.three_phase);
    return o;
}

// Builds the schedule a fixture spec describes (children first, as torch).
std::shared_ptr<optim::LRScheduler> build(optim::Optimizer& opt, const json& s) {
    const std::string type = s["type"];
    if (type == "StepLR") return std::make_shared<optim::StepLR>(opt, s["step_size"], s.value("gamma", 0.1));
    if (type == "MultiStepLR")
        return std::make_shared<optim::MultiStepLR>(opt, s["milestones"].get<std::vector<int64_t>>(),
                                                    s.value("gamma", 0.1));
    if (type == "ExponentialLR") return std::make_shared<optim::ExponentialLR>(opt, s["gamma"]);
    if (type == "LinearLR")
        return std::make_shared<optim::LinearLR>(opt, s.value("start_factor", 1.0 / 3), s.value("end_factor", 1.0),
                                                 s.value("total_iters", 5));
    if (type == "CosineAnnealingLR")
        return std::make_shared<optim::CosineAnnealingLR>(opt, s["T_max"], s.value("eta_min", 0.0));
    if (type == "CosineAnnealingWarmRestarts")
        return std::make_shared<optim::CosineAnnealingWarmRestarts>(opt, s["T_0"], s.value("T_mult", 1),
                                                                    s.value("eta_min", 0.0));
    if (type == "OneCycleLR")
        return std::make_shared<optim::OneCycleLR>(opt, doubles_or_one(s, "max_lr", opt.num_groups()),
                                                   s["total_steps"], one_cycle_options(s));
    std::vector<std::shared_ptr<optim::LRScheduler>> children;
    for (const json& child : s["schedulers"]) children.push_back(build(opt, child));
    if (type == "SequentialLR")
        return std::make_shared<optim::SequentialLR>(opt, children, s["milestones"].get<std::vector<int64_t>>());
    if (type == "ChainedScheduler") return std::make_shared<optim::ChainedScheduler>(children);
    throw Error("unknown schedule " + type);
}

std::unique_ptr<optim::ReduceLROnPlateau> build_plateau(optim::Optimizer& opt, const json& s) {
    optim::PlateauOptions o;
    o.mode_max = s.value("mode", "min") == "max";
    o.factor = s.value("factor", o.factor);
    o.patience = s.value("patience", o.patience);
    o.threshold = s.value("threshold", o.threshold);
    o.threshold_abs = s.value("threshold_mode", "rel") == "abs";
    o.cooldown = s.value("cooldown", o.cooldown);
    if (s.contains("min_lr")) {
        if (s["min_lr"].is_array())
            o.min_lrs = s["min_lr"].get<std::vector<double>>();
        else
            o.min_lr = s["min_lr"];
    }
    return std::make_unique<optim::ReduceLROnPlateau>(opt, o);
}

// The case's optimizer: two groups (lrs 0.1 and 0.02), SGD with momentum or Adam.
struct Setup {
    std::vector<Tensor> params = make_params();
    std::unique_ptr<optim::Optimizer> opt;
    std::shared_ptr<optim::LRScheduler> schedule;
    std::unique_ptr<optim::ReduceLROnPlateau> plateau;

    explicit Setup(const json& c) {
        std::vector<optim::ParamGroup> groups{{.params = {params[0], params[1]}, .options = {.lr = 0.1}},
                                              {.params = {params[2]}, .options = {.lr = 0.02}}};
        if (c["optimizer"] == "SGD")
            opt = std::make_unique<optim::SGD>(std::move(groups), optim::Options{.lr = 0.1, .momentum = 0.9});
        else
            opt = std::make_unique<optim::Adam>(std::move(groups), optim::Options{.lr = 0.1});
        if (c["spec"]["type"] == "ReduceLROnPlateau")
            plateau = build_plateau(*opt, c["spec"]);
        else
            schedule = build(*opt, c["spec"]);
    }
    void step(const json& c, size_t k) {  // k-th step, 1-based
        if (plateau)
            plateau->step(c["metrics"][k - 1].get<double>());
        else
            schedule->step();
    }
    std::vector<double> momentums() const {
        std::vector<double> m;
        for (const auto& g : opt->param_groups()) m.push_back(g.options.betas ? (*g.options.betas)[0] : *g.options.momentum);
        return m;
    }
    void check_against(const json& c, size_t k) const {
        const std::string what = cat_str(c["name"].get<std::string>(), " after step ", k);
        require_close({opt->lr(0), opt->lr(1)}, c["lrs"][k].get<std::vector<double>>(), 1e-9, what + " lr");
        if (c.contains("momentums"))
            require_close(momentums(), c["momentums"][k].get<std::vector<double>>(), 1e-9, what + " momentum");
    }
};

}  // namespace

TEST_CASE("schedules match torch 1.13's learning rates", "[schedule]") {
    for (const json& c : fixture()["schedules"]) {
        SECTION(c["name"].get<std::string>()) {
            Setup setup(c);
            setup.check_against(c, 0);
            for (size_t k = 1; k < c["lrs"].size(); ++k) {
                setup.step(c, k);
                setup.check_against(c, k);
            }
            if (setup.schedule) CHECK(setup.schedule->last_lr() == std::vector<double>{setup.opt->lr(0), setup.opt->lr(1)});
        }
    }
}

TEST_CASE("schedules resume from state_dict and continue identically", "[schedule]") {
    for (const json& c : fixture()["schedules"]) {
        SECTION(c["name"].get<std::string>()) {
            const size_t half = c["lrs"].size() / 2;
            Setup first(c);
            for (size_t k = 1; k <= half; ++k) first.step(c, k);
            const NamedTensors opt_state = first.opt->state_dict();
            const std::string sched_state = first.plateau ? first.plateau->state_dict() : first.schedule->state_dict();
            Setup second(c);  // built afresh: lrs back at the start
            second.opt->load_state_dict(opt_state);
            if (second.plateau)
                second.plateau->load_state_dict(sched_state);
            else
                second.schedule->load_state_dict(sched_state);
            second.check_against(c, half);
            for (size_t k = half + 1; k < c["lrs"].size(); ++k) {
                second.step(c, k);
                second.check_against(c, k);
            }
        }
    }
}

TEST_CASE("schedule errors name the problem", "[schedule]") {
    std::vector<Tensor> p = make_params();
    optim::SGD sgd(p, {.lr = 0.1, .momentum = 0.9});
    optim::StepLR step(sgd, 3);
    optim::ExponentialLR decay(sgd, 0.9);
    CHECK_THROWS_WITH(decay.load_state_dict(step.state_dict()), Contains("saved by StepLR, not ExponentialLR"));
    CHECK_THROWS_WITH(decay.load_state_dict("{not json"), Contains("not valid JSON"));

    optim::SGD two({{.params = {p[0]}}, {.params = {p[1]}}}, {.lr = 0.1});
    optim::StepLR step_two(two, 3);
    CHECK_THROWS_WITH(step_two.load_state_dict(step.state_dict()), Contains("the state has 1 groups, the optimizer has 2"));

    optim::OneCycleLR cycle(sgd, 1.0, 3);
    cycle.step();
    cycle.step();
    cycle.step();
    CHECK_THROWS_WITH(cycle.step(), Contains("tried to step 5 times"));

    optim::SGD plain(make_params(), {.lr = 0.1});
    CHECK_THROWS_WITH(optim::SequentialLR(plain, {std::make_shared<optim::StepLR>(sgd, 2)}, {}),
                      Contains("different optimizer"));
    CHECK_THROWS_WITH(optim::SequentialLR(sgd, {std::make_shared<optim::StepLR>(sgd, 2)}, {3}),
                      Contains("one milestone fewer than schedulers"));
    CHECK_THROWS_WITH(optim::ReduceLROnPlateau(sgd, {.factor = 1.5}), Contains("factor should be < 1.0"));
}

TEST_CASE("the first schedule records initial_lr and later ones start from it", "[schedule]") {
    std::vector<Tensor> p = make_params();
    optim::SGD sgd(p, {.lr = 0.1});
    optim::LinearWarmup warmup(sgd, 0.5, 1.0, 4);
    CHECK(sgd.lr() == 0.05);
    CHECK(*sgd.param_groups()[0].options.initial_lr == 0.1);
    optim::CosineAnnealingLR cosine(sgd, 10);
    CHECK(cosine.base_lrs() == std::vector<double>{0.1});
    // A checkpoint carries initial_lr with the other options.
    CHECK_THAT(sgd.state_dict().metadata.at("param_groups"), Contains("\"initial_lr\":0.1"));
}
