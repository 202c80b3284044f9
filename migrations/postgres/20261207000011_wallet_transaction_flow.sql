-- How the wallet got the request, and so how its answer must arrive and what
-- the presentation is bound to: 'redirect' is a request by reference answered
-- with direct_post.jwt to /oid4vp/response; 'dc_api' is a request handed to
-- the browser's Digital Credentials API, answered through the page to
-- /{id}/dc-api/response and bound to the page's origin. An answer that
-- arrives the other way is refused, so one flow's presentation can never
-- be judged by the other's binding.
--
-- Rows from before this column were all requests by reference.
ALTER TABLE wallet_transactions
    ADD COLUMN flow TEXT NOT NULL DEFAULT 'redirect' CHECK (flow IN ('redirect', 'dc_api'));
