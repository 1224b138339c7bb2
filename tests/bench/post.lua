-- wrk script: send every request as a POST with an empty body (headers come from -H).
wrk.method = "POST"
