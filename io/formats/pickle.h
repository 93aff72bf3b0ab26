// A restricted pickle reader: the data half of Python's pickle, with none of
// its code execution. It is what read_pytorch (io/formats/pytorch.h) uses to
// read torch.save files, and it is written for hostile input.
//
// Python's pickle is a little stack machine whose GLOBAL opcode imports any
// module attribute and whose REDUCE calls it: loading a pickle runs whatever
// the file names (os.system, builtins.eval, ...). This VM executes nothing.
// GLOBAL and STACK_GLOBAL ask the caller (UnpickleHooks::find_global), which
// returns a value standing for an allowed name or throws; REDUCE, NEWOBJ,
// BUILD and BINPERSID hand plain data to the caller's hooks, which build
// native C++ values. With no hooks every GLOBAL and BINPERSID is an error.
//
// Supported opcodes: the binary ones of protocols 1-4 that torch.save and
// pickle.dumps of containers use (FORMATS.md 1e), not protocol 0's text ones: PROTO FRAME STOP MARK POP POP_MARK DUP
// NONE NEWTRUE NEWFALSE BININT BININT1 BININT2 LONG1 LONG4 BINFLOAT BINUNICODE
// SHORT_BINUNICODE BINUNICODE8 BINSTRING SHORT_BINSTRING BINBYTES
// SHORT_BINBYTES BINBYTES8 EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST
// APPEND APPENDS LIST EMPTY_DICT DICT SETITEM SETITEMS EMPTY_SET ADDITEMS
// FROZENSET GLOBAL STACK_GLOBAL REDUCE NEWOBJ BUILD BINPERSID BINGET
// LONG_BINGET BINPUT LONG_BINPUT MEMOIZE. Anything else is an error naming the
// opcode and its byte offset.
//
// Hostile input: every length is checked against the bytes left (no
// allocation larger than the input), memo indices must exist, the stack and
// MARK must hold what an opcode pops. Destroying a value is iterative, so a
// long chain of nested lists cannot overflow the C++ stack; code that walks a
// result recursively must bound its own depth. A cyclic structure (a list
// appended to itself through the memo) is refused when the pickle ends, and
// broken up, so that shared pointers never leak. Errors are graft::Error naming `where` (the
// file), the opcode and its offset.
#pragma once

#include <any>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace graft::io::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
    enum class Kind {
        None,
        Bool,
        Int,     // fits int64
        BigInt,  // LONG1/LONG4 wider than 64 bits: `text` holds the little-endian two's-complement bytes
        Float,
        Str,    // UTF-8 text in `text`
        Bytes,  // raw bytes in `text` (also py2 BINSTRING)
        Tuple,
        List,
        Set,
        Dict,    // `entries`, insertion order kept
        Global,  // an allowed module.name, from find_global
        Native,  // a caller-built value in `native` (a storage, a tensor, ...)
    };
    Kind kind = Kind::None;
    bool boolean = false;
    int64_t integer = 0;
    double floating = 0;
    std::string text;
    std::string module, name;  // Global
    std::vector<ValuePtr> items;
    std::vector<std::pair<ValuePtr, ValuePtr>> entries;
    std::any native;

    Value() = default;
    explicit Value(Kind k) : kind(k) {}
    Value(const Value&) = delete;
    Value& operator=(const Value&) = delete;
    ~Value();  // iterative: no recursion through nested containers

    bool is(Kind k) const { return kind == k; }
    // "str", "dict", "collections.OrderedDict", ...: for messages.
    std::string describe() const;
    // The dict entry whose key is the string `key`, or null.
    ValuePtr get(const std::string& key) const;
};

ValuePtr make_none();
ValuePtr make_int(int64_t v);
ValuePtr make_str(std::string s);

struct UnpickleHooks {
    // GLOBAL module name: a value standing for it (usually Kind::Global) or a
    // thrown Error when the name is not allowed. Null: every GLOBAL is refused.
    std::function<ValuePtr(const std::string& module, const std::string& name)> find_global;
    // REDUCE callable args (args a tuple) and NEWOBJ cls args.
    std::function<ValuePtr(const ValuePtr& callable, const ValuePtr& args)> reduce;
    // BINPERSID pid.
    std::function<ValuePtr(const ValuePtr& pid)> persistent_load;
    // BUILD obj state (obj stays on the stack). Null: BUILD is an error.
    std::function<void(const ValuePtr& obj, const ValuePtr& state)> build;
};

// Runs one pickle from data[0, size) up to its STOP. `consumed` (if given)
// receives the number of bytes read, so consecutive pickles can be read.
ValuePtr unpickle(const uint8_t* data, size_t size, const UnpickleHooks& hooks, const std::string& where,
                  size_t* consumed = nullptr);

}  // namespace graft::io::pickle
