// The restricted pickle VM (pickle.h). It mirrors CPython's Unpickler
// (Lib/pickle.py, _Unpickler.load_*) opcode by opcode for the data opcodes,
// and delegates every opcode that would import or call to the caller's hooks.
#include "io/formats/pickle.h"

#include <bit>
#include <cstring>
#include <unordered_map>

#include "core/error.h"

namespace graft::io::pickle {

Value::~Value() {
    // Children whose last owner is this value are emptied one by one, so that
    // their own destructors find nothing to recurse into.
    std::vector<ValuePtr> pending = std::move(items);
    for (auto& [k, v] : entries) {
        pending.push_back(std::move(k));
        pending.push_back(std::move(v));
    }
    entries.clear();
    while (!pending.empty()) {
        ValuePtr child = std::move(pending.back());
        pending.pop_back();
        if (child && child.use_count() == 1) {
            for (auto& item : child->items) pending.push_back(std::move(item));
            child->items.clear();
            for (auto& [k, v] : child->entries) {
                pending.push_back(std::move(k));
                pending.push_back(std::move(v));
            }
            child->entries.clear();
        }
    }
}

std::string Value::describe() const {
    switch (kind) {
        case Kind::None: return "None";
        case Kind::Bool: return "bool";
        case Kind::Int:
        case Kind::BigInt: return "int";
        case Kind::Float: return "float";
        case Kind::Str: return "str";
        case Kind::Bytes: return "bytes";
        case Kind::Tuple: return "tuple";
        case Kind::List: return "list";
        case Kind::Set: return "set";
        case Kind::Dict: return "dict";
        case Kind::Global: return module + "." + name;
        case Kind::Native: return "object";
    }
    return "?";
}

ValuePtr Value::get(const std::string& key) const {
    for (const auto& [k, v] : entries)
        if (k->kind == Kind::Str && k->text == key) return v;
    return nullptr;
}

ValuePtr make_none() { return std::make_shared<Value>(Value::Kind::None); }
ValuePtr make_int(int64_t v) {
    auto p = std::make_shared<Value>(Value::Kind::Int);
    p->integer = v;
    return p;
}
ValuePtr make_str(std::string s) {
    auto p = std::make_shared<Value>(Value::Kind::Str);
    p->text = std::move(s);
    return p;
}

namespace {

using Kind = Value::Kind;

bool is_container(const Value& v) {
    return v.kind == Kind::Tuple || v.kind == Kind::List || v.kind == Kind::Set || v.kind == Kind::Dict;
}

class Machine {
public:
    Machine(const uint8_t* data, size_t size, const UnpickleHooks& hooks, const std::string& where)
        : data_(data), size_(size), hooks_(hooks), where_(where) {}

    ~Machine() {
        // Break every link between the containers made here, so that cycles
        // built by a hostile pickle cannot keep each other alive.
        if (!keep_)
            for (const ValuePtr& c : containers_) {
                c->items.clear();
                c->entries.clear();
            }
    }

    ValuePtr run(size_t* consumed);

private:
    const uint8_t* data_;
    size_t size_;
    const UnpickleHooks& hooks_;
    const std::string& where_;
    size_t pos_ = 0;
    size_t op_pos_ = 0;
    uint8_t op_ = 0;
    std::vector<ValuePtr> stack_;
    std::vector<size_t> marks_;  // stack sizes at each MARK
    std::unordered_map<uint64_t, ValuePtr> memo_;
    std::vector<ValuePtr> containers_;
    bool keep_ = false;

    [[noreturn]] void fail(const std::string& message) const {
        throw Error(cat_str(where_, ": pickle opcode 0x", hex(op_), " at byte ", op_pos_, ": ", message));
    }
    static std::string hex(uint8_t b) {
        const char* digits = "0123456789abcdef";
        return {digits[b >> 4], digits[b & 15]};
    }

    const uint8_t* take(uint64_t n) {
        if (n > size_ - pos_)
            fail(cat_str("needs ", n, " more bytes but only ", size_ - pos_, " are left (truncated or corrupt)"));
        const uint8_t* p = data_ + pos_;
        pos_ += size_t(n);
        return p;
    }
    uint64_t read_le(int n) {
        const uint8_t* p = take(uint64_t(n));
        uint64_t v = 0;
        for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
        return v;
    }
    std::string read_string(uint64_t n) {
        const uint8_t* p = take(n);
        return std::string(reinterpret_cast<const char*>(p), size_t(n));
    }
    std::string read_line() {
        const void* nl = std::memchr(data_ + pos_, '\n', size_ - pos_);
        if (!nl) fail("a text line without its newline (truncated)");
        const size_t n = size_t(static_cast<const uint8_t*>(nl) - (data_ + pos_));
        std::string s = read_string(n);
        pos_ += 1;
        return s;
    }

    size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    void push(ValuePtr v) { stack_.push_back(std::move(v)); }
    ValuePtr pop() {
        if (stack_.size() <= floor()) fail(marks_.empty() ? "the stack is empty" : "the stack is empty above the MARK");
        ValuePtr v = std::move(stack_.back());
        stack_.pop_back();
        return v;
    }
    ValuePtr& top() {
        if (stack_.size() <= floor()) fail(marks_.empty() ? "the stack is empty" : "the stack is empty above the MARK");
        return stack_.back();
    }
    std::vector<ValuePtr> pop_mark() {
        if (marks_.empty()) fail("no MARK on the stack");
        const size_t m = marks_.back();
        marks_.pop_back();
        std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + ptrdiff_t(m)),
                                    std::make_move_iterator(stack_.end()));
        stack_.resize(m);
        return items;
    }
    ValuePtr container(Kind kind) {
        auto v = std::make_shared<Value>(kind);
        containers_.push_back(v);
        return v;
    }
    ValuePtr scalar(Kind kind) { return std::make_shared<Value>(kind); }
    Value& expect(const ValuePtr& v, Kind kind, const char* what) {
        if (!v->is(kind)) fail(cat_str(what, " is a ", v->describe(), ", expected a ", Value(kind).describe()));
        return *v;
    }

    void push_long(uint64_t n) {
        const uint8_t* p = take(n);
        if (n <= 8) {
            uint64_t v = 0;
            for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
            if (n > 0 && n < 8 && (p[n - 1] & 0x80)) v |= ~uint64_t(0) << (8 * n);  // sign-extend
            push(make_int(int64_t(v)));
            return;
        }
        auto big = scalar(Kind::BigInt);
        big->text.assign(reinterpret_cast<const char*>(p), size_t(n));
        push(big);
    }
    void push_text(Kind kind, uint64_t n) {
        auto v = scalar(kind);
        v->text = read_string(n);
        push(v);
    }
    void memo_put(uint64_t index) {
        ValuePtr& v = top();
        memo_[index] = v;
    }
    void memo_get(uint64_t index) {
        auto it = memo_.find(index);
        if (it == memo_.end()) fail(cat_str("memo index ", index, " was never stored"));
        push(it->second);
    }
    void global(const std::string& module, const std::string& name) {
        if (!hooks_.find_global) fail(cat_str("global ", module, ".", name, " is not allowed (no globals are)"));
        ValuePtr v = hooks_.find_global(module, name);
        if (!v) fail(cat_str("global ", module, ".", name, " is not allowed"));
        push(std::move(v));
    }
    void set_items(Value& dict, std::vector<ValuePtr>& items) {
        if (items.size() % 2) fail(cat_str("an odd number of items (", items.size(), ") for key/value pairs"));
        // A repeated key is kept as a second entry (Python would replace the
        // value); readers decide what a duplicate means.
        for (size_t i = 0; i < items.size(); i += 2) dict.entries.emplace_back(items[i], items[i + 1]);
    }
    bool step();
    void check_acyclic() const;
};

ValuePtr Machine::run(size_t* consumed) {
    while (step()) {
    }
    if (!marks_.empty()) fail("STOP with a MARK still open");
    if (stack_.size() != 1) fail(cat_str("STOP with ", stack_.size(), " values on the stack, expected 1"));
    check_acyclic();
    keep_ = true;
    if (consumed) *consumed = pos_;
    return stack_.back();
}

// Iterative depth-first search over every container made here: an edge back to
// a container still on the path is a cycle.
void Machine::check_acyclic() const {
    std::unordered_map<const Value*, uint8_t> state;  // 1 on the path, 2 done
    struct Frame {
        const Value* v;
        size_t next;
    };
    auto child = [](const Value* v, size_t i) -> const Value* {
        if (i < v->items.size()) return v->items[i].get();
        i -= v->items.size();
        if (i < 2 * v->entries.size()) return (i % 2 ? v->entries[i / 2].second : v->entries[i / 2].first).get();
        return nullptr;
    };
    for (const ValuePtr& root : containers_) {
        if (state.count(root.get())) continue;
        std::vector<Frame> path{{root.get(), 0}};
        state[root.get()] = 1;
        while (!path.empty()) {
            Frame& f = path.back();
            const Value* c = child(f.v, f.next++);
            if (!c) {
                state[f.v] = 2;
                path.pop_back();
                continue;
            }
            if (!is_container(*c)) continue;
            auto it = state.find(c);
            if (it == state.end()) {
                state[c] = 1;
                path.push_back({c, 0});
            } else if (it->second == 1) {
                throw Error(cat_str(where_, ": the pickle builds a ", c->describe(),
                                    " that contains itself; cyclic data is not accepted"));
            }
        }
    }
}

bool Machine::step() {
    op_pos_ = pos_;
    op_ = *take(1);
    switch (op_) {
        case 0x80: {  // PROTO
            const uint8_t proto = *take(1);
            if (proto > 5) fail(cat_str("pickle protocol ", int(proto), " is not supported"));
            break;
        }
        case 0x95: read_le(8); break;  // FRAME: a length hint only
        case '.': return false;        // STOP
        case '(': marks_.push_back(stack_.size()); break;
        case '0':  // POP: a value, or the MARK when none is above it
            if (stack_.size() > floor()) stack_.pop_back();
            else pop_mark();
            break;
        case '1': pop_mark(); break;
        case '2': push(top()); break;
        case 'N': push(make_none()); break;
        case 0x88:
        case 0x89: {
            auto b = scalar(Kind::Bool);
            b->boolean = op_ == 0x88;
            push(b);
            break;
        }
        case 'J': push(make_int(int32_t(uint32_t(read_le(4))))); break;
        case 'K': push(make_int(int64_t(read_le(1)))); break;
        case 'M': push(make_int(int64_t(read_le(2)))); break;
        case 0x8a: push_long(read_le(1)); break;
        case 0x8b: {
            const uint64_t n = read_le(4);
            if (n & 0x80000000u) fail("negative LONG4 length");
            push_long(n);
            break;
        }
        case 'G': {
            const uint64_t bits = read_le(8);
            auto f = scalar(Kind::Float);
            f->floating = std::bit_cast<double>(__builtin_bswap64(bits));  // big-endian on disk
            push(f);
            break;
        }
        case 'X': push_text(Kind::Str, read_le(4)); break;
        case 0x8c: push_text(Kind::Str, read_le(1)); break;
        case 0x8d: push_text(Kind::Str, read_le(8)); break;
        case 'T': {
            const uint64_t n = read_le(4);
            if (n & 0x80000000u) fail("negative BINSTRING length");
            push_text(Kind::Bytes, n);
            break;
        }
        case 'U': push_text(Kind::Bytes, read_le(1)); break;
        case 'B': push_text(Kind::Bytes, read_le(4)); break;
        case 'C': push_text(Kind::Bytes, read_le(1)); break;
        case 0x8e: push_text(Kind::Bytes, read_le(8)); break;
        case ')': push(container(Kind::Tuple)); break;
        case 't':
        case 'l':
        case 0x91: {  // TUPLE, LIST, FROZENSET
            auto v = container(op_ == 't' ? Kind::Tuple : op_ == 'l' ? Kind::List : Kind::Set);
            v->items = pop_mark();
            push(v);
            break;
        }
        case 0x85:
        case 0x86:
        case 0x87: {
            const int n = op_ - 0x84;
            auto v = container(Kind::Tuple);
            v->items.resize(size_t(n));
            for (int i = n - 1; i >= 0; --i) v->items[size_t(i)] = pop();
            push(v);
            break;
        }
        case ']': push(container(Kind::List)); break;
        case '}': push(container(Kind::Dict)); break;
        case 0x8f: push(container(Kind::Set)); break;
        case 'd': {  // DICT
            auto items = pop_mark();
            auto v = container(Kind::Dict);
            set_items(*v, items);
            push(v);
            break;
        }
        case 'a': {
            ValuePtr item = pop();
            expect(top(), Kind::List, "APPEND's target").items.push_back(std::move(item));
            break;
        }
        case 'e': {
            auto items = pop_mark();
            auto& list = expect(top(), Kind::List, "APPENDS's target").items;
            for (auto& item : items) list.push_back(std::move(item));
            break;
        }
        case 0x90: {
            auto items = pop_mark();
            auto& set = expect(top(), Kind::Set, "ADDITEMS's target").items;
            for (auto& item : items) set.push_back(std::move(item));
            break;
        }
        case 's': {
            std::vector<ValuePtr> items(2);
            items[1] = pop();
            items[0] = pop();
            set_items(expect(top(), Kind::Dict, "SETITEM's target"), items);
            break;
        }
        case 'u': {
            auto items = pop_mark();
            set_items(expect(top(), Kind::Dict, "SETITEMS's target"), items);
            break;
        }
        case 'c': {
            std::string module = read_line();
            std::string name = read_line();
            global(module, name);
            break;
        }
        case 0x93: {
            ValuePtr name = pop();
            ValuePtr module = pop();
            if (!module->is(Kind::Str) || !name->is(Kind::Str))
                fail(cat_str("STACK_GLOBAL needs two str, got ", module->describe(), " and ", name->describe()));
            global(module->text, name->text);
            break;
        }
        case 'R':
        case 0x81: {  // REDUCE, NEWOBJ
            ValuePtr args = pop();
            ValuePtr callable = pop();
            if (!args->is(Kind::Tuple)) fail(cat_str("the arguments are a ", args->describe(), ", not a tuple"));
            if (!callable->is(Kind::Global))
                fail(cat_str("cannot call a ", callable->describe(), " (only allowed globals are callable)"));
            if (!hooks_.reduce) fail(cat_str("calling ", callable->describe(), " is not allowed"));
            ValuePtr result = hooks_.reduce(callable, args);
            if (!result) fail(cat_str("calling ", callable->describe(), " is not allowed"));
            if (is_container(*result)) containers_.push_back(result);
            push(std::move(result));
            break;
        }
        case 'b': {
            ValuePtr state = pop();
            ValuePtr& obj = top();
            if (!hooks_.build) fail(cat_str("BUILD on a ", obj->describe(), " is not allowed"));
            hooks_.build(obj, state);
            break;
        }
        case 'Q': {
            ValuePtr pid = pop();
            if (!hooks_.persistent_load) fail("persistent ids (BINPERSID) are not allowed here");
            ValuePtr v = hooks_.persistent_load(pid);
            if (!v) fail("the persistent id was refused");
            push(std::move(v));
            break;
        }
        case 'h': memo_get(read_le(1)); break;
        case 'j': memo_get(read_le(4)); break;
        case 'q': memo_put(read_le(1)); break;
        case 'r': memo_put(read_le(4)); break;
        case 0x94: memo_put(memo_.size()); break;
        default: fail("unsupported or unknown opcode");
    }
    return true;
}

}  // namespace

ValuePtr unpickle(const uint8_t* data, size_t size, const UnpickleHooks& hooks, const std::string& where,
                  size_t* consumed) {
    Machine machine(data, size, hooks, where);
    return machine.run(consumed);
}

}  // namespace graft::io::pickle
