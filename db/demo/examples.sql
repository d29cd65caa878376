-- The demo's approved examples: the playground's and <txt2sql-chat>'s example buttons on the demo
-- database (GET /v1/examples/questions lists approved examples; this is where the demo's come
-- from), and the first examples its prompts hold. Loaded with the demo database by `npm start`
-- (scripts/demo-database.mjs) and by the playground's tests; never by the code for another schema.
-- The table is the one the service creates on its first write (src/db/examples-table.ts,
-- ensureExamplesTable): keep the two alike.
CREATE TABLE IF NOT EXISTS public.txt2sql_examples (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  question text NOT NULL CHECK (length(question) > 0),
  sql text NOT NULL CHECK (length(sql) > 0),
  source text NOT NULL DEFAULT 'admin',
  approved boolean NOT NULL DEFAULT false,
  request_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  approved_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS txt2sql_examples_pair_key ON public.txt2sql_examples (md5(question || chr(31) || sql));

INSERT INTO public.txt2sql_examples (question, sql, source, approved, approved_at)
SELECT question, sql, 'demo', true, now()
FROM (VALUES
  (1, '沈塘桥地铁站的信息', $$SELECT * FROM stations WHERE name LIKE '%沈塘桥%';$$),
  (2, '客流量最高的十个站点', $$SELECT s.name, SUM(r.entries + r.exits) AS total_passengers FROM daily_ridership r JOIN stations s ON s.id = r.station_id GROUP BY s.name ORDER BY total_passengers DESC LIMIT 10;$$),
  (3, '1号线有哪些站点？', $$SELECT s.name, sl.seq FROM station_lines sl JOIN lines l ON l.id = sl.line_id JOIN stations s ON s.id = sl.station_id WHERE l.name = '1号线' ORDER BY sl.seq;$$),
  (4, '最早开通的站点有哪些？', $$SELECT name, opened_on FROM stations WHERE opened_on IS NOT NULL ORDER BY opened_on LIMIT 10;$$),
  (5, '哪些站是换乘站？', $$SELECT name FROM stations WHERE is_transfer ORDER BY name;$$),
  (6, '每个行政区有多少个地铁站？', $$SELECT district, count(*) AS stations FROM stations GROUP BY district ORDER BY stations DESC;$$)
) AS demo (n, question, sql)
WHERE NOT EXISTS (SELECT 1 FROM public.txt2sql_examples WHERE source = 'demo')
ORDER BY n;
