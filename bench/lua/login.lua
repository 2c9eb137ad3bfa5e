-- wrk: POST /v1/auth/login, each request as the next of this thread's own accounts, round robin.
-- BENCH_EMAILS (comma-separated, one password: BENCH_PASSWORD) is dealt into disjoint slices, one per wrk thread
-- (WRK_THREADS of them), so in-flight requests do not share an email: the login brake counts an email's attempts
-- until they succeed, and more than its limit at once for one email would be 429s, not logins.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads_set_up = 0

function setup(thread)
   thread:set("thread_index", threads_set_up)
   threads_set_up = threads_set_up + 1
end

function init(args)
   local threads = tonumber(os.getenv("WRK_THREADS"))
   local password = os.getenv("BENCH_PASSWORD")
   bodies, turn = {}, 0
   local dealt = 0
   for email in string.gmatch(os.getenv("BENCH_EMAILS"), "[^,]+") do
      if dealt % threads == thread_index then
         bodies[#bodies + 1] = string.format('{"email": "%s", "password": "%s"}', email, password)
      end
      dealt = dealt + 1
   end
   assert(#bodies > 0, "no BENCH_EMAILS for this thread")
end

function request()
   turn = turn % #bodies + 1
   return wrk.format(nil, nil, nil, bodies[turn])
end
