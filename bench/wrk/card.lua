-- GET /api/v1/cards/{cardNumber} with a bearer token: what a cashier's scanner does.
-- Environment: LOY_BENCH_TOKEN, LOY_BENCH_CARD.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local token = assert(os.getenv("LOY_BENCH_TOKEN"), "LOY_BENCH_TOKEN not set")
local card = assert(os.getenv("LOY_BENCH_CARD"), "LOY_BENCH_CARD not set")

wrk.method = "GET"
wrk.path = "/api/v1/cards/" .. card
wrk.headers["Authorization"] = "Bearer " .. token
