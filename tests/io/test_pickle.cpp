// The restricted pickle VM (io/formats/pickle.h) on pickles written here byte
// by byte: the data opcodes give Python's values, the memo aliases, and broken
// or hostile streams (memo misses, stack underflow, unknown opcodes, lengths
// past the end, cycles, very deep nesting) end in graft::Error, never a crash.
#include <catch2/catch.hpp>

#include <string>

#include "core/error.h"
#include "io/formats/pickle.h"

using namespace graft;
using namespace graft::io::pickle;
using Catch::Matchers::Contains;
using Kind = Value::Kind;

namespace {

ValuePtr run(const std::string& bytes, const UnpickleHooks& hooks = {}, size_t* consumed = nullptr) {
    return unpickle(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), hooks, "test.pkl", consumed);
}

std::string error_of(const std::string& bytes, const UnpickleHooks& hooks = {}) {
    try {
        run(bytes, hooks);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

std::string P(std::initializer_list<int> bytes) {
    std::string s;
    for (int b : bytes) s.push_back(char(b));
    return s;
}

}  // namespace

TEST_CASE("pickle: scalars, strings and containers", "[io][pickle]") {
    // {'a': [1, -2, 300, 2**40, -1], 'b': (None, True, False), 'c': 0.1, 'd': b'xy'} at protocol 2
    const std::string bytes = P({0x80, 2, '}', 'q', 0, '(', 'X', 1, 0, 0, 0, 'a', ']', 'q', 1, '(', 'K', 1, 'J', 0xfe,
                                 0xff, 0xff, 0xff, 'M', 0x2c, 1, 0x8a, 6, 0, 0, 0, 0, 0, 1, 0x8a, 1, 0xff, 'e', 'X', 1,
                                 0, 0, 0, 'b', 'N', 0x88, 0x89, 0x87, 'X', 1, 0, 0, 0, 'c', 'G', 0x3f, 0xb9, 0x99,
                                 0x99, 0x99, 0x99, 0x99, 0x9a, 'X', 1, 0, 0, 0, 'd', 'C', 2, 'x', 'y', 'u', '.'});
    ValuePtr v = run(bytes);
    REQUIRE(v->is(Kind::Dict));
    ValuePtr a = v->get("a");
    REQUIRE(a->is(Kind::List));
    REQUIRE(a->items.size() == 5);
    CHECK(a->items[0]->integer == 1);
    CHECK(a->items[1]->integer == -2);
    CHECK(a->items[2]->integer == 300);
    CHECK(a->items[3]->integer == (int64_t(1) << 40));
    CHECK(a->items[4]->integer == -1);
    ValuePtr b = v->get("b");
    REQUIRE(b->is(Kind::Tuple));
    CHECK(b->items[0]->is(Kind::None));
    CHECK(b->items[1]->boolean);
    CHECK_FALSE(b->items[2]->boolean);
    CHECK(v->get("c")->floating == 0.1);
    CHECK(v->get("d")->text == "xy");
}

TEST_CASE("pickle: the memo aliases one object, protocol 4 framing", "[io][pickle]") {
    // l = []; (l, l) with BINPUT/BINGET, then MEMOIZE + FRAME form
    ValuePtr t = run(P({0x80, 2, ']', 'q', 7, 'h', 7, 0x86, '.'}));
    REQUIRE(t->items.size() == 2);
    CHECK(t->items[0] == t->items[1]);
    ValuePtr u = run(P({0x80, 4, 0x95, 5, 0, 0, 0, 0, 0, 0, 0, ']', 0x94, 'h', 0, 0x86, '.'}));
    CHECK(u->items[0] == u->items[1]);
    // consumed: two pickles back to back
    size_t used = 0;
    run(P({0x80, 2, 'N', '.', 0x80, 2, 'N', '.'}), {}, &used);
    CHECK(used == 4);
}

TEST_CASE("pickle: broken streams are errors naming the opcode and offset", "[io][pickle]") {
    CHECK_THAT(error_of(P({0x80, 2, 'h', 3, '.'})), Contains("memo index 3 was never stored"));
    CHECK_THAT(error_of(P({0x80, 2, 'a', '.'})), Contains("the stack is empty"));
    CHECK_THAT(error_of(P({0x80, 2, '(', 's', '.'})), Contains("empty above the MARK"));
    CHECK_THAT(error_of(P({0x80, 2, 'e', '.'})), Contains("no MARK"));
    CHECK_THAT(error_of(P({0x80, 2, 'I', '1', '\n', '.'})), Contains("opcode 0x49 at byte 2: unsupported"));
    CHECK_THAT(error_of(P({0x80, 2, 'X', 0xff, 0xff, 0xff, 0x7f, 'a', '.'})), Contains("only 2 are left"));
    CHECK_THAT(error_of(P({0x80, 2, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80})), Contains("are left"));
    CHECK_THAT(error_of(P({0x80, 2, 'N', 'N', '.'})), Contains("2 values on the stack"));
    CHECK_THAT(error_of(P({0x80, 2, 'N'})), Contains("truncated"));
    CHECK_THAT(error_of(P({0x80, 2, '(', 'N', '.'})), Contains("MARK still open"));
    CHECK_THAT(error_of(P({0x80, 2, 'K', 1, ']', 's', '.'})), Contains("the stack is empty"));
    CHECK_THAT(error_of(P({0x80, 2, 'K', 1, 'N', 'N', 's', '.'})), Contains("SETITEM's target is a int"));
    CHECK_THAT(error_of(P({0x80, 2, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', '.'})),
               Contains("global os.system is not allowed"));
    CHECK_THAT(error_of(P({0x80, 2, 'c', 'o', 's'})), Contains("without its newline"));
    CHECK_THAT(error_of(P({0x80, 2, 'N', ')', 'R', '.'})), Contains("cannot call a None"));
    CHECK_THAT(error_of(P({0x80, 2, 'N', 'Q', '.'})), Contains("BINPERSID"));
    CHECK_THAT(error_of(P({0x80, 2, '}', 'N', 'b', '.'})), Contains("BUILD on a dict is not allowed"));
    CHECK_THAT(error_of(P({0x80, 9, 'N', '.'})), Contains("protocol 9"));
    CHECK_THAT(error_of(P({0x80, 2, 0x8b, 0, 0, 0, 0x80, '.'})), Contains("negative LONG4"));
    CHECK_THAT(error_of(P({0x80, 4, 'K', 1, 'K', 2, 0x93, '.'})), Contains("STACK_GLOBAL needs two str"));
}

TEST_CASE("pickle: cycles are refused and nothing leaks", "[io][pickle]") {
    // l = []; l.append(l)
    CHECK_THAT(error_of(P({0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.'})), Contains("contains itself"));
    // d = {}; d['k'] = [d] left in the memo while the result is None
    CHECK_THAT(error_of(P({0x80, 2, '}', 'q', 0, 'K', 1, 'h', 0, 0x85, 's', '0', 'N', '.'})),
               Contains("contains itself"));
}

TEST_CASE("pickle: very deep nesting is built and freed without recursion", "[io][pickle]") {
    // [[[[...]]]] 200000 levels: EMPTY_LIST repeated, then APPEND repeated.
    const int depth = 200000;
    std::string bytes = P({0x80, 2});
    bytes.append(size_t(depth), ']');
    bytes.append(size_t(depth - 1), 'a');
    bytes += '.';
    ValuePtr v = run(bytes);
    CHECK(v->is(Kind::List));
    v.reset();  // the destructor must not recurse 200000 levels
    // Left unfinished on the stack when an error strikes.
    std::string broken = P({0x80, 2});
    broken.append(size_t(depth), ']');
    broken.append(size_t(depth - 1), 'a');
    broken += 'h';
    broken += char(9);
    CHECK_THAT(error_of(broken), Contains("memo index 9"));
}

TEST_CASE("pickle: hooks see globals, calls and persistent ids", "[io][pickle]") {
    UnpickleHooks hooks;
    hooks.find_global = [](const std::string& m, const std::string& n) -> ValuePtr {
        if (m != "collections" || n != "OrderedDict") return nullptr;
        auto v = std::make_shared<Value>(Kind::Global);
        v->module = m;
        v->name = n;
        return v;
    };
    hooks.reduce = [](const ValuePtr& callable, const ValuePtr& args) -> ValuePtr {
        CHECK(callable->describe() == "collections.OrderedDict");
        CHECK(args->items.empty());
        return std::make_shared<Value>(Kind::Dict);
    };
    hooks.persistent_load = [](const ValuePtr& pid) { return make_int(int64_t(pid->items.size())); };
    const std::string od = "\x80\x02" "ccollections\nOrderedDict\n)R.";
    CHECK(run(od, hooks)->is(Kind::Dict));
    CHECK_THAT(error_of("\x80\x02" "cposix\nsystem\n)R.", hooks), Contains("global posix.system is not allowed"));
    CHECK(run(P({0x80, 2, 'N', 'N', 0x86, 'Q', '.'}), hooks)->integer == 2);
}
