// Weka ARFF files (dense form): the attribute declarations and the @data rows
// as strings, enough to read text-classification sets such as Weka's
// ReutersCorn-train.arff.
//
//   @relation name            % comments start with %
//   @attribute Text string
//   @attribute class {0,1}    nominal: the values, in order
//   @data
//   'a text with \'quotes\'',1
//
// Values are separated by commas; a value may be quoted with ' or " and then
// use backslash escapes (\' \" \\ \n \t \r); '?' stays '?' (missing). Keywords
// are case-insensitive. Not supported (graft::Error naming file:line): sparse
// rows {...}, relational attributes, a row with the wrong value count.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "io/datasets/csv.h"

namespace graft::io {

struct ArffAttribute {
    std::string name;
    std::string type;                  // lower-case: numeric, real, integer, string, date, nominal
    std::vector<std::string> values;   // nominal values in declaration order
};

struct ArffTable {
    std::string relation;
    std::vector<ArffAttribute> attributes;
    std::vector<CsvRow> rows;  // one field per attribute, unquoted
};

ArffTable parse_arff(std::string_view text, const std::string& name);

}  // namespace graft::io
