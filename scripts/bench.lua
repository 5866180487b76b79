-- wrk script for scripts/bench: each request picks one line of a file written by bench.py,
-- "<header name>: <value>\t<path>" (a Cookie or an Authorization header; empty for anonymous),
-- at random. One line = one target (a single page as one signed-in
-- user); many lines = the mixed staff scenario (many sessions, a weighted mix of their pages).
-- Every request carries X-Forwarded-Proto: https, as the TLS proxy in front of production
-- would send it. Responses other than 200 are counted and printed as "BENCH_NON200 <n>".
local threads = {}
local lines = {}
bad = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local header, path = line:match("^(.-)\t(.*)$")
    if path then
      local name, value = header:match("^([^:]+):%s*(.*)$")
      table.insert(lines, { name, value, path })
    end
  end
  math.randomseed(os.time() * 100 + (id or 0))
end

function request()
  local entry = lines[math.random(#lines)]
  local headers = { ["X-Forwarded-Proto"] = "https" }
  if entry[1] then
    headers[entry[1]] = entry[2]
  end
  return wrk.format("GET", entry[3], headers)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("bad") or 0)
  end
  io.write(string.format("BENCH_NON200 %d\n", total))
end
