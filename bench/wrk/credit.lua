-- POST /api/v1/customers/{id}/transactions {"type":"credit","amount":1}: a durable ledger write.
-- Environment: LOY_BENCH_TOKEN, LOY_BENCH_CUSTOMER.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local token = assert(os.getenv("LOY_BENCH_TOKEN"), "LOY_BENCH_TOKEN not set")
local id = assert(os.getenv("LOY_BENCH_CUSTOMER"), "LOY_BENCH_CUSTOMER not set")

wrk.method = "POST"
wrk.path = "/api/v1/customers/" .. id .. "/transactions"
wrk.body = '{"type":"credit","amount":1}'
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
