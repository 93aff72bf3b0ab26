// NamePattern: globs (*, ?, classes, escapes), "re:" regexes, module names that
// cover their subtree, malformed patterns; and load_pretrained's skip globs,
// which now read patterns the same way.
#include <catch2/catch.hpp>

#include "graft.h"
#include "transfer/load_pretrained.h"
#include "transfer/name_pattern.h"

using namespace graft;
using Catch::Matchers::Contains;
using transfer::NamePattern;

TEST_CASE("NamePattern globs match whole dotted names", "[freeze][pattern]") {
    CHECK(NamePattern("*").matches("layer1.0.conv1.weight"));
    CHECK(NamePattern("*").matches(""));
    CHECK(NamePattern("layer1*").matches("layer1.0.conv1.weight"));  // '*' spans dots
    CHECK(NamePattern("layer1.*").matches("layer1.0.conv1.weight"));
    CHECK_FALSE(NamePattern("layer1.*").matches("layer10.weight"));
    CHECK(NamePattern("*.bias").matches("fc.bias"));
    CHECK_FALSE(NamePattern("*.bias").matches("fc.bias_hh"));
    CHECK_FALSE(NamePattern("fc").matches("fc.weight"));  // whole-name match
    CHECK(NamePattern("layer?.0.bn?.weight").matches("layer3.0.bn2.weight"));
    CHECK_FALSE(NamePattern("layer?.weight").matches("layer12.weight"));
    CHECK(NamePattern("*conv*weight").matches("layer2.1.conv2.weight"));
    CHECK(NamePattern("a**b").matches("a.x.b"));
    CHECK(NamePattern("re:foo").text() == "re:foo");
    CHECK(NamePattern("layer1").text() == "layer1");
}

TEST_CASE("NamePattern character classes, ranges, negation and escapes", "[freeze][pattern]") {
    const NamePattern stages("layer[1-3]*");
    CHECK(stages.matches("layer1.0.conv1.weight"));
    CHECK(stages.matches("layer3.1.bn2.bias"));
    CHECK_FALSE(stages.matches("layer4.0.conv1.weight"));
    CHECK_FALSE(stages.matches("fc.weight"));
    CHECK(NamePattern("layer[14].*").matches("layer4.x"));
    CHECK_FALSE(NamePattern("layer[14].*").matches("layer2.x"));
    CHECK(NamePattern("layer[!4].*").matches("layer2.x"));
    CHECK(NamePattern("layer[^4].*").matches("layer2.x"));
    CHECK_FALSE(NamePattern("layer[!4].*").matches("layer4.x"));
    CHECK(NamePattern("[a-cx]").matches("x"));
    CHECK_FALSE(NamePattern("[a-cx]").matches("d"));
    CHECK(NamePattern("[]a]").matches("]"));      // ']' first is a member
    CHECK(NamePattern("[a-]").matches("-"));      // '-' last is a member
    CHECK(NamePattern("w\\*").matches("w*"));      // an escaped '*' is literal
    CHECK_FALSE(NamePattern("w\\*").matches("wx"));
    CHECK(NamePattern("\\[0\\]").matches("[0]"));
}

TEST_CASE("NamePattern re: regexes match the whole name", "[freeze][pattern]") {
    const NamePattern convs("re:layer[34]\\.\\d+\\.conv\\d\\.weight");
    CHECK(convs.is_regex());
    CHECK(convs.matches("layer3.0.conv1.weight"));
    CHECK(convs.matches("layer4.1.conv2.weight"));
    CHECK_FALSE(convs.matches("layer2.0.conv1.weight"));
    CHECK_FALSE(convs.matches("layer3.0.conv1.weight_orig"));  // whole match, not search
    CHECK(NamePattern("re:.*(bn|downsample\\.1).*").matches("layer2.0.downsample.1.weight"));
    CHECK_FALSE(NamePattern("layer1").is_regex());
}

TEST_CASE("NamePattern: a module name covers everything under it", "[freeze][pattern]") {
    const NamePattern module("layer1");
    CHECK(module.matches_or_within("layer1.0.conv1.weight"));
    CHECK(module.matches_or_within("layer1"));
    CHECK_FALSE(module.matches_or_within("layer10.weight"));
    CHECK_FALSE(module.matches_or_within("x.layer1.weight"));  // prefixes only
    CHECK(NamePattern("layer4.1").matches_or_within("layer4.1.bn2.bias"));
    CHECK_FALSE(NamePattern("layer4.1").matches_or_within("layer4.10.bn2.bias"));
    CHECK(NamePattern("re:layer[12]").matches_or_within("layer2.0.conv1.weight"));
    CHECK(NamePattern("*.downsample").matches_or_within("layer2.0.downsample.0.weight"));
}

TEST_CASE("NamePattern: malformed patterns are errors naming the pattern", "[freeze][pattern]") {
    CHECK_THROWS_WITH(NamePattern("layer[1-3"), Contains("layer[1-3") && Contains("no closing ']'"));
    CHECK_THROWS_WITH(NamePattern("[z-a]"), Contains("[z-a]") && Contains("backwards"));
    CHECK_THROWS_WITH(NamePattern("w\\"), Contains("lone"));
    CHECK_THROWS_WITH(NamePattern("re:layer(1"), Contains("re:layer(1") && Contains("regex"));
    CHECK_THROWS_AS(NamePattern("re:["), Error);
}

TEST_CASE("load_pretrained's skip globs read patterns as NamePattern does", "[freeze][pattern]") {
    CHECK(transfer::glob_match("fc.*", "fc.weight"));
    CHECK_FALSE(transfer::glob_match("fc.*", "xfc.weight"));
    CHECK(transfer::glob_match("classifier.[1-3].*", "classifier.1.weight"));
    CHECK(transfer::glob_match("re:cls\\..*", "cls.predictions.bias"));
}
