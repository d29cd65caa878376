/**
 * The built-in functions a caller's SQL may call, by group, with why each group is here. Names are
 * pg_catalog's as the parser returns them (unquoted identifiers folded to lower case); a call
 * matches when its name is listed here, unqualified or qualified `pg_catalog.` — whatever its
 * spelling in the text (`"count"`, `U&"\0063ount"`, `COUNT`). Anything not listed is refused: no
 * function that runs SQL given as text (ts_stat, ts_rewrite, query_to_xml, …), reads or changes
 * settings (current_setting, set_config), inspects the server, sessions or catalogs (pg_*,
 * version, has_*_privilege, …), touches files, locks, sequences, large objects or other servers.
 * Business-schema functions are the operator's to allow, by name (DB_FUNCTIONS, src/config.ts).
 *
 * To extend: add the name to the group it belongs to (or a new group with its reason), after
 * checking in Postgres's documentation that it only computes a value from its arguments.
 */
export const ALLOWED_FUNCTION_GROUPS: Record<string, { why: string; names: string[] }> = {
  aggregates: {
    why: 'summaries over the rows the query reads: what most business questions ask',
    names: [
      'count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'every', 'string_agg', 'array_agg', 'any_value',
      'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp', 'corr', 'covar_pop', 'covar_samp',
      'regr_avgx', 'regr_avgy', 'regr_count', 'regr_intercept', 'regr_r2', 'regr_slope', 'regr_sxx', 'regr_sxy', 'regr_syy',
      'percentile_cont', 'percentile_disc', 'mode', 'bit_and', 'bit_or', 'bit_xor', 'range_agg', 'range_intersect_agg',
      'json_agg', 'jsonb_agg', 'json_agg_strict', 'jsonb_agg_strict', 'json_object_agg', 'jsonb_object_agg',
      'json_object_agg_strict', 'jsonb_object_agg_strict', 'json_object_agg_unique', 'jsonb_object_agg_unique',
      'json_object_agg_unique_strict', 'jsonb_object_agg_unique_strict',
    ],
  },
  window: {
    why: 'rankings, running totals and neighbours within a partition of the rows read',
    names: ['row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value'],
  },
  math: {
    why: 'arithmetic on values: no state, no I/O (factorial and power are bounded by the huge-constant rule)',
    names: [
      'abs', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'sign', 'sqrt', 'cbrt', 'power', 'pow', 'exp', 'ln', 'log', 'log10',
      'mod', 'div', 'pi', 'degrees', 'radians', 'gcd', 'lcm', 'factorial', 'width_bucket', 'scale', 'min_scale', 'trim_scale',
      'sin', 'cos', 'tan', 'cot', 'asin', 'acos', 'atan', 'atan2', 'sind', 'cosd', 'tand', 'cotd', 'asind', 'acosd', 'atand',
      'atan2d', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh', 'erf', 'erfc', 'random', 'random_normal', 'num_nulls', 'num_nonnulls',
    ],
  },
  string: {
    why: 'text computed from its arguments (repeat, lpad, rpad, replace, regexp_replace, format: bounded by the huge-constant rule)',
    names: [
      'length', 'char_length', 'character_length', 'octet_length', 'bit_length', 'lower', 'upper', 'initcap', 'casefold',
      'btrim', 'ltrim', 'rtrim', 'substring', 'substr', 'position', 'strpos', 'left', 'right', 'replace', 'repeat', 'reverse',
      'split_part', 'concat', 'concat_ws', 'format', 'lpad', 'rpad', 'translate', 'overlay', 'ascii', 'chr', 'md5',
      'sha224', 'sha256', 'sha384', 'sha512', 'crc32', 'crc32c', 'encode', 'decode', 'to_hex', 'to_bin', 'to_oct',
      'quote_ident', 'quote_literal', 'quote_nullable', 'regexp_replace', 'regexp_match', 'regexp_matches',
      'regexp_split_to_array', 'regexp_split_to_table', 'regexp_like', 'regexp_count', 'regexp_instr', 'regexp_substr',
      'starts_with', 'string_to_array', 'string_to_table', 'unistr', 'normalize', 'is_normalized', 'similar_to_escape',
      'like_escape', 'to_ascii', 'bit_count', 'get_bit', 'get_byte', 'gen_random_uuid', 'uuidv4', 'uuidv7',
      // full-text search over the caller's values (ts_stat/ts_rewrite, which run SQL from text, are not here)
      'to_tsvector', 'to_tsquery', 'plainto_tsquery', 'phraseto_tsquery', 'websearch_to_tsquery', 'ts_rank', 'ts_rank_cd',
      'ts_headline', 'setweight', 'numnode', 'querytree',
    ],
  },
  datetime: {
    why: 'dates and times of the rows, and the transaction clock (no sleeping: pg_sleep is not here)',
    names: [
      'now', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp', 'timeofday', 'age', 'date_part', 'date_trunc',
      'date_bin', 'extract', 'make_date', 'make_time', 'make_timestamp', 'make_timestamptz', 'make_interval', 'justify_days',
      'justify_hours', 'justify_interval', 'isfinite', 'to_timestamp', 'to_date', 'to_char', 'to_number', 'timezone',
      'overlaps', 'date_add', 'date_subtract',
    ],
  },
  json: {
    why: 'building and reading JSON values and documents held in rows',
    names: [
      'to_json', 'to_jsonb', 'row_to_json', 'array_to_json', 'json_build_object', 'jsonb_build_object', 'json_build_array',
      'jsonb_build_array', 'json_object', 'jsonb_object', 'json_extract_path', 'json_extract_path_text', 'jsonb_extract_path',
      'jsonb_extract_path_text', 'json_array_length', 'jsonb_array_length', 'json_typeof', 'jsonb_typeof', 'jsonb_set',
      'jsonb_set_lax', 'jsonb_insert', 'json_strip_nulls', 'jsonb_strip_nulls', 'jsonb_pretty', 'jsonb_path_exists',
      'jsonb_path_match', 'jsonb_path_query', 'jsonb_path_query_array', 'jsonb_path_query_first', 'json_each', 'json_each_text',
      'jsonb_each', 'jsonb_each_text', 'json_array_elements', 'json_array_elements_text', 'jsonb_array_elements',
      'jsonb_array_elements_text', 'json_object_keys', 'jsonb_object_keys', 'json_to_record', 'json_to_recordset',
      'jsonb_to_record', 'jsonb_to_recordset', 'json_populate_record', 'json_populate_recordset', 'jsonb_populate_record',
      'jsonb_populate_recordset',
    ],
  },
  array: {
    why: 'arrays of values: built, measured, searched and unnested (array_fill: bounded by the huge-constant rule)',
    names: [
      'array_length', 'array_lower', 'array_upper', 'array_ndims', 'array_dims', 'cardinality', 'array_append', 'array_prepend',
      'array_cat', 'array_position', 'array_positions', 'array_remove', 'array_replace', 'array_to_string', 'array_fill',
      'trim_array', 'array_reverse', 'array_sort', 'array_shuffle', 'array_sample', 'unnest', 'generate_subscripts',
    ],
  },
  series: {
    why: 'rows generated from numbers or dates (calendars, gaps); statement_timeout bounds their time',
    names: ['generate_series'],
  },
  ranges: {
    why: 'range values and their bounds',
    names: [
      'lower', 'upper', 'isempty', 'lower_inc', 'upper_inc', 'lower_inf', 'upper_inf', 'range_merge',
      'int4range', 'int8range', 'numrange', 'daterange', 'tsrange', 'tstzrange',
    ],
  },
  conversion: {
    why: 'a type name called as a function is a cast (`numeric(x)`, `date(ts)`)',
    names: ['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'text', 'varchar', 'bpchar', 'bool', 'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval'],
  },
}

export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set(Object.values(ALLOWED_FUNCTION_GROUPS).flatMap((g) => g.names))

/**
 * SQL-standard keywords the parser turns into a value function rather than a call. The clock is
 * a business question's; who the database thinks the caller is (CURRENT_USER, SESSION_USER,
 * CURRENT_ROLE, USER, CURRENT_CATALOG, CURRENT_SCHEMA) is the service's session, not the answer's.
 */
export const ALLOWED_VALUE_FUNCTIONS: ReadonlySet<string> = new Set([
  'SVFOP_CURRENT_DATE', 'SVFOP_CURRENT_TIME', 'SVFOP_CURRENT_TIME_N', 'SVFOP_CURRENT_TIMESTAMP', 'SVFOP_CURRENT_TIMESTAMP_N',
  'SVFOP_LOCALTIME', 'SVFOP_LOCALTIME_N', 'SVFOP_LOCALTIMESTAMP', 'SVFOP_LOCALTIMESTAMP_N',
])

/**
 * Types a value may not be cast to: the object-identifier types look names up in the catalogs
 * (`'pg_authid'::regclass` says whether a relation exists and its oid, `::regproc` finds functions)
 * and are a first step of catalog probing; no business answer needs them. Nor xml (below).
 */
export const REFUSED_TYPES: ReadonlySet<string> = new Set([
  'regclass', 'regproc', 'regprocedure', 'regoper', 'regoperator', 'regtype', 'regrole', 'regnamespace', 'regconfig',
  'regdictionary', 'regcollation', 'oid', 'xid', 'xid8', 'cid', 'tid', 'txid_snapshot', 'pg_snapshot', 'pg_lsn',
  // a cast to xml runs libxml2's parser on the caller's text (DTDs, entity expansion), as XMLPARSE
  // would: XML is not admitted in any spelling
  'xml',
])

/** TABLESAMPLE methods built into Postgres (an extension's method is a function call too). */
export const ALLOWED_SAMPLE_METHODS: ReadonlySet<string> = new Set(['bernoulli', 'system'])
