"""The authorization matrix: what every URL pattern answers to each kind of visitor, for each
state of its object. Facts about the product, checked by test_authorization_matrix.py (one
test a cell), which also fails when a URL pattern of the site is missing here.

Each section starts with `roles:`, the columns of its rows; a row is a pattern (its name as
`reverse` takes it), the method, the object's state, then one cell a role:

    200 … 410   that status
    login       a redirect (302) to the sign-in page, with ?next=
    admin-login a redirect (302) to the admin's sign-in page
    302         a redirect elsewhere: the role is let in (not to the sign-in page)
    -           not asked

Roles (the network of the test: Zoé's documents from the university, shared with École
Imaginaire, by link and by email):

    anon   anonymous: no session, no API key, no secret
    own    Zoé, the learner who owns the documents and shares
    lrn    Bob, another learner
    ist    staff of the issuing organization (the university; role "staff")
    iad    an administrator of the issuing organization
    oia    an administrator of another issuer (Free College)
    oia@   the same, asking its own organization's address for the university's object
    rst    Camille, staff of the receiving organization (École Imaginaire)
    rad    an administrator of the receiving organization
    ooa    an administrator of another receiving organization (Acme)
    ooa@   the same, asking Acme's address for École Imaginaire's object
    pad    the platform's administrator (Django superuser), a member of no organization,
           with an authenticator app, as every account with power must have
    link   a browser that opened the link share's secret link (its grant in the session;
           for recipient:open, the one that holds the link's token)
    mail   a browser that opened the email share's link, without the access code yet
    mail+  the same, with the right access code entered
    rkey   an API key of the receiving organization; okey: of another receiving one
    ikey   an API key of the issuing organization; oikey: of another issuer

States: shares active, expired, revoked, or active with a document the issuer withdrew
(shared_doc_withdrawn); documents active, withdrawn, revoked, or locked (a collection fee
unpaid); "any" for a pattern without such an object.

`admin:*` stands for every pattern of the Django admin: its row is checked against the
admin's home and every registered model's list and add pages.
"""

import dataclasses
import functools

ROLES = {
    "anon": "anonymous",
    "own": "owner",
    "lrn": "other_learner",
    "ist": "issuer_staff",
    "iad": "issuer_admin",
    "oia": "other_issuer_admin",
    "oia@": "other_issuer_admin@own_slug",
    "rst": "recipient_staff",
    "rad": "recipient_admin",
    "ooa": "other_org_admin",
    "ooa@": "other_org_admin@own_slug",
    "pad": "platform_admin",
    "link": "link_recipient",
    "mail": "email_recipient",
    "mail+": "email_recipient_verified",
    "rkey": "recipient_key",
    "okey": "other_org_key",
    "ikey": "issuer_key",
    "oikey": "other_issuer_key",
}
ADMIN_GROUP = "admin:*"
# The answers that refuse: a POST answered so must have changed nothing.
REFUSED = {"login", "admin-login", "401", "403", "404", "405", "410"}

TABLE = """
[site]
roles:                                                           anon  own   lrn   ist   iad   oia   rst   rad   ooa   pad
home                                 GET    any                  200   302   302   302   302   302   302   302   302   302
help                                 GET    any                  200   200   200   200   200   200   200   200   200   200
terms                                GET    any                  200   200   200   200   200   200   200   200   200   200
privacy                              GET    any                  200   200   200   200   200   200   200   200   200   200
language_switch                      GET    any                  405   -     -     -     -     -     -     -     -     405
language_switch                      POST   any                  302   302   302   302   302   302   302   302   302   302
login                                GET    any                  200   302   302   302   302   302   302   302   302   302
login                                POST   any                  200   302   302   302   302   302   302   302   302   302
logout                               GET    any                  405   -     -     -     -     -     -     -     -     405
logout                               POST   any                  login login login login login login login login login login
documents:list                       GET    any                  login 200   200   200   200   200   200   200   200   200
sharing:list                         GET    any                  login 200   200   200   200   200   200   200   200   200
sharing:start                        GET    any                  login 200   404   404   404   404   404   404   404   404
sharing:with_organization            GET    any                  login 200   404   404   404   404   404   404   404   404
sharing:with_organization            POST   any                  login 400   400   400   400   400   400   400   400   400
sharing:fields                       GET    any                  login 200   200   200   200   200   200   200   200   200
sharing:by_email                     GET    any                  login 200   404   404   404   404   404   404   404   404
sharing:by_email                     POST   any                  login 400   400   400   400   400   400   400   400   400
sharing:by_link                      GET    any                  login 200   404   404   404   404   404   404   404   404
sharing:by_link                      POST   any                  login 400   400   400   400   400   400   400   400   400
sharing:finish                       GET    any                  login -     -     -     -     -     -     -     -     405
sharing:finish                       POST   any                  login 302   302   302   302   302   302   302   302   302
inbox:list                           GET    any                  login 404   404   404   404   404   200   200   200   404
billing:buy_shares                   GET    any                  login 200   200   200   200   200   200   200   200   200
billing:buy_shares                   POST   any                  login 302   302   302   302   302   302   302   302   302
billing:pay_collection               GET    any                  login 200   404   404   404   404   404   404   404   404
billing:pay_collection               POST   any                  login 302   404   404   404   404   404   404   404   404
billing:purchase                     GET    any                  login 200   404   404   404   404   404   404   404   404
billing:payments                     GET    any                  login 200   200   200   200   200   200   200   200   200
billing:receipt                      GET    any                  login 200   404   404   404   404   404   404   404   404
billing:receipt_pdf                  GET    any                  login 200   404   404   404   404   404   404   404   404
payments:sandbox                     GET    any                  login 200   404   404   404   404   404   404   404   404
payments:sandbox                     POST   any                  login 302   404   404   404   404   404   404   404   404
payments:stripe_webhook              GET    any                  405   -     -     -     -     -     -     -     -     405
payments:stripe_webhook              POST   any                  503   503   503   503   503   503   503   503   503   503
verification:start                   GET    any                  200   200   200   200   200   200   200   200   200   200
verification:start                   POST   any                  400   400   400   400   400   400   400   400   400   400
verification:api_credential          GET    any                  405   -     -     -     -     -     -     -     -     405
verification:api_credential          POST   any                  400   400   400   400   400   400   400   400   400   400
verification:api_pdf                 GET    any                  405   -     -     -     -     -     -     -     -     405
verification:api_pdf                 POST   any                  400   400   400   400   400   400   400   400   400   400
credentials:did                      GET    any                  200   200   200   200   200   200   200   200   200   200
credentials:status_list              GET    any                  200   200   200   200   200   200   200   200   200   200
ops:health                           GET    any                  200   200   200   200   200   200   200   200   200   200
ops:health_live                      GET    any                  200   200   200   200   200   200   200   200   200   200
ops:metrics                          GET    any                  404   404   404   404   404   404   404   404   404   404

[documents]
roles:                                                           anon  own   lrn   ist   iad   oia   rst   rad   ooa   pad
documents:detail                     GET    active               login 200   404   404   404   404   404   404   404   404
documents:detail                     GET    withdrawn            login 200   404   404   404   404   404   404   404   404
documents:detail                     GET    revoked              login 200   404   404   404   404   404   404   404   404
documents:detail                     GET    locked               login 200   404   404   404   404   404   404   404   404
documents:view                       GET    active               login 200   404   404   404   404   404   404   404   404
documents:view                       GET    withdrawn            login 200   404   404   404   404   404   404   404   404
documents:view                       GET    revoked              login 200   404   404   404   404   404   404   404   404
documents:view                       GET    locked               login 403   404   404   404   404   404   404   404   404
documents:download                   GET    active               login 200   404   404   404   404   404   404   404   404
documents:download                   GET    withdrawn            login 200   404   404   404   404   404   404   404   404
documents:download                   GET    revoked              login 200   404   404   404   404   404   404   404   404
documents:download                   GET    locked               login 403   404   404   404   404   404   404   404   404
documents:credential                 GET    active               login 200   404   404   404   404   404   404   404   404
documents:credential                 GET    withdrawn            login 200   404   404   404   404   404   404   404   404
documents:credential                 GET    revoked              login 200   404   404   404   404   404   404   404   404
documents:credential                 GET    locked               login 404   404   404   404   404   404   404   404   404
verification:document                GET    active               200   200   200   200   200   200   200   200   200   200
verification:document                GET    withdrawn            200   200   200   200   200   200   200   200   200   200
verification:document                GET    revoked              200   200   200   200   200   200   200   200   200   200
verification:document                POST   active               400   400   400   400   400   400   400   400   400   400

[shares]
roles:                                                           anon  own   lrn   ist   iad   oia   rst   rad   ooa   pad
sharing:detail                       GET    active               login 200   404   404   404   404   404   404   404   404
sharing:detail                       GET    expired              login 200   404   404   404   404   404   404   404   404
sharing:detail                       GET    revoked              login 200   404   404   404   404   404   404   404   404
sharing:done                         GET    active               login 200   404   404   404   404   404   404   404   404
sharing:done                         GET    expired              login 200   404   404   404   404   404   404   404   404
sharing:done                         GET    revoked              login 200   404   404   404   404   404   404   404   404
sharing:qr                           GET    active               login 404   404   404   404   404   404   404   404   404
sharing:expiry                       GET    active               login -     -     -     -     -     -     -     -     405
sharing:expiry                       POST   active               login 302   404   404   404   404   404   404   404   404
sharing:expiry                       POST   expired              login 410   404   404   404   404   404   404   404   404
sharing:expiry                       POST   revoked              login 410   404   404   404   404   404   404   404   404
sharing:revoke                       GET    active               login -     -     -     -     -     -     -     -     405
sharing:revoke                       POST   active               login 302   404   404   404   404   404   404   404   404
sharing:revoke                       POST   expired              login 302   404   404   404   404   404   404   404   404
sharing:revoke                       POST   revoked              login 302   404   404   404   404   404   404   404   404
sharing:code_unlock                  GET    active               login -     -     -     -     -     -     -     -     405
sharing:code_unlock                  POST   active               login 302   404   404   404   404   404   404   404   404
sharing:code_unlock                  POST   expired              login 302   404   404   404   404   404   404   404   404
sharing:code_unlock                  POST   revoked              login 302   404   404   404   404   404   404   404   404
inbox:share                          GET    active               login 404   404   404   404   404   200   200   404   404
inbox:share                          GET    expired              login 404   404   404   404   404   410   410   404   404
inbox:share                          GET    revoked              login 404   404   404   404   404   410   410   404   404
inbox:view                           GET    active               login 404   404   404   404   404   200   200   404   404
inbox:view                           GET    expired              login 404   404   404   404   404   410   410   404   404
inbox:view                           GET    revoked              login 404   404   404   404   404   410   410   404   404
inbox:view                           GET    shared_doc_withdrawn login 404   404   404   404   404   410   410   404   404
inbox:download                       GET    active               login 404   404   404   404   404   200   200   404   404
inbox:download                       GET    expired              login 404   404   404   404   404   410   410   404   404
inbox:download                       GET    revoked              login 404   404   404   404   404   410   410   404   404
inbox:download                       GET    shared_doc_withdrawn login 404   404   404   404   404   410   410   404   404

[recipient]
roles:                                                           anon  own   rst   pad   link  mail  mail+
recipient:open                       GET    active               404   404   404   404   302   404   404
recipient:open                       GET    expired              404   404   404   404   410   404   404
recipient:open                       GET    revoked              404   404   404   404   410   404   404
recipient:share                      GET    active               404   404   404   404   200   404   200
recipient:share                      GET    expired              404   404   404   404   410   404   410
recipient:share                      GET    revoked              404   404   404   404   410   404   410
recipient:view                       GET    active               404   404   404   404   200   404   200
recipient:view                       GET    expired              404   404   404   404   410   404   410
recipient:view                       GET    revoked              404   404   404   404   410   404   410
recipient:view                       GET    shared_doc_withdrawn 404   404   404   404   410   404   410
recipient:download                   GET    active               404   404   404   404   200   404   200
recipient:download                   GET    expired              404   404   404   404   410   404   410
recipient:download                   GET    revoked              404   404   404   404   410   404   410
recipient:download                   GET    shared_doc_withdrawn 404   404   404   404   410   404   410
recipient:code                       GET    active               404   404   404   404   404   200   302
recipient:code                       GET    expired              404   404   404   404   404   410   410
recipient:code                       GET    revoked              404   404   404   404   404   410   410
recipient:code                       POST   active               404   404   404   404   404   400   302
recipient:code_new                   GET    active               405   -     -     405   -     -     -
recipient:code_new                   POST   active               404   404   404   404   404   302   302
recipient:code_new                   POST   revoked              404   404   404   404   404   410   410

[issuer]
roles:                                                           anon  own   lrn   ist   iad   oia   rst   rad   ooa   pad   oia@
issuer_billing:settings              GET    any                  login 404   404   200   200   404   404   404   404   404   -
issuer_billing:settings              POST   any                  login 404   404   403   400   404   404   404   404   404   -
issuer_billing:bundle_add            GET    any                  login -     -     -     -     -     -     -     -     405   -
issuer_billing:bundle_add            POST   any                  login 404   404   403   400   404   404   404   404   404   -
issuer_billing:bundle_active         GET    any                  login -     -     -     -     -     -     -     -     405   -
issuer_billing:bundle_active         POST   any                  login 404   404   403   302   404   404   404   404   404   404
issuer_billing:payments              GET    any                  login 404   404   200   200   404   404   404   404   404   -
issuer_billing:refund                GET    any                  login -     -     -     -     -     -     -     -     405   -
issuer_billing:refund                POST   any                  login 404   404   403   302   404   404   404   404   404   404
issuer_billing:grant                 GET    any                  login 404   404   403   200   404   404   404   404   404   -
issuer_billing:grant                 POST   any                  login 404   404   403   400   404   404   404   404   404   -
issuer_documents:list                GET    any                  login 404   404   200   200   404   404   404   404   404   -
issuer_documents:new                 GET    any                  login 404   404   200   200   404   404   404   404   404   -
issuer_documents:new                 POST   any                  login 404   404   400   400   404   404   404   404   404   -
issuer_documents:detail              GET    active               login 404   404   200   200   404   404   404   404   404   404
issuer_documents:detail              GET    withdrawn            login 404   404   200   200   404   404   404   404   404   404
issuer_documents:detail              GET    revoked              login 404   404   200   200   404   404   404   404   404   404
issuer_documents:version_add         GET    active               login -     -     -     -     -     -     -     -     405   -
issuer_documents:version_add         POST   active               login 404   404   400   400   404   404   404   404   404   404
issuer_documents:version_download    GET    active               login 404   404   200   200   404   404   404   404   404   404
issuer_documents:version_download    GET    withdrawn            login 404   404   200   200   404   404   404   404   404   404
issuer_documents:withdraw            GET    active               login -     -     -     -     -     -     -     -     405   -
issuer_documents:withdraw            POST   active               login 404   404   302   302   404   404   404   404   404   404
issuer_documents:withdraw            POST   withdrawn            login 404   404   400   400   404   404   404   404   404   404
issuer_documents:bulk_list           GET    any                  login 404   404   200   200   404   404   404   404   404   -
issuer_documents:bulk_new            GET    any                  login 404   404   200   200   404   404   404   404   404   -
issuer_documents:bulk_new            POST   any                  login 404   404   400   400   404   404   404   404   404   -
issuer_documents:bulk_detail         GET    any                  login 404   404   200   200   404   404   404   404   404   404
issuer_documents:bulk_progress       GET    any                  login 404   404   200   200   404   404   404   404   404   404
issuer_documents:bulk_report         GET    any                  login 404   404   200   200   404   404   404   404   404   404

[organization]
roles:                                                           anon  own   lrn   ist   iad   oia   rst   rad   ooa   pad   ooa@
network:profile                      GET    any                  login 404   404   404   404   404   403   200   404   404   -
network:profile                      POST   any                  login 404   404   404   404   404   403   400   404   404   -
network:fields                       GET    any                  login 404   404   404   404   404   403   200   404   404   -
network:field_new                    GET    any                  login 404   404   404   404   404   403   200   404   404   -
network:field_new                    POST   any                  login 404   404   404   404   404   403   400   404   404   -
network:field_edit                   GET    any                  login 404   404   404   404   404   403   200   404   404   404
network:field_edit                   POST   any                  login 404   404   404   404   404   403   400   404   404   404
network:field_move                   GET    any                  405   -     -     -     -     -     -     -     -     405   -
network:field_move                   POST   any                  login 404   404   404   404   404   403   302   404   404   404
network:field_required               POST   any                  login 404   404   404   404   404   403   302   404   404   404
network:field_active                 POST   any                  login 404   404   404   404   404   403   302   404   404   404
network:staff                        GET    any                  login 404   404   404   404   404   403   200   404   404   -
network:member_invite                GET    any                  405   -     -     -     -     -     -     -     -     405   -
network:member_invite                POST   any                  login 404   404   404   404   404   403   400   404   404   -
network:invitation_revoke            GET    any                  405   -     -     -     -     -     -     -     -     405   -
network:invitation_revoke            POST   any                  login 404   404   404   404   404   403   302   404   404   404
network:member_role                  POST   any                  login 404   404   404   404   404   403   302   404   404   404
network:member_remove                GET    any                  login 404   404   404   404   404   403   200   404   404   404
network:member_remove                POST   any                  login 404   404   404   404   404   403   302   404   404   404
network:keys                         GET    any                  login 404   404   404   404   404   403   200   404   404   -
network:key_new                      GET    any                  login 404   404   404   404   404   403   200   404   404   -
network:key_new                      POST   any                  login 404   404   404   404   404   403   400   404   404   -
network:key_revoke                   GET    any                  login 404   404   404   404   404   403   200   404   404   404
network:key_revoke                   POST   any                  login 404   404   404   404   404   403   302   404   404   404
network:webhooks                     GET    any                  login 404   404   404   404   404   403   200   404   404   -
network:webhook_new                  GET    any                  login 404   404   404   404   404   403   200   404   404   -
network:webhook_new                  POST   any                  login 404   404   404   404   404   403   400   404   404   -
network:webhook                      GET    any                  login 404   404   404   404   404   403   200   404   404   404
network:webhook_edit                 GET    any                  login 404   404   404   404   404   403   200   404   404   404
network:webhook_edit                 POST   any                  login 404   404   404   404   404   403   400   404   404   404
network:webhook_rotate               GET    any                  405   -     -     -     -     -     -     -     -     405   -
network:webhook_rotate               POST   any                  login 404   404   404   404   404   403   302   404   404   404
network:webhook_delete               GET    any                  login 404   404   404   404   404   403   200   404   404   404
network:webhook_delete               POST   any                  login 404   404   404   404   404   403   302   404   404   404
network:delivery_redeliver           GET    any                  405   -     -     -     -     -     -     -     -     405   -
network:delivery_redeliver           POST   any                  login 404   404   404   404   404   403   302   404   404   404
network:branding                     GET    any                  405   -     -     -     -     -     -     -     -     405   -
network:branding                     POST   any                  login 404   404   404   404   404   403   404   404   404   -
network:logo                         GET    any                  login 404   404   404   404   404   403   404   404   404   -
audit:organization                   GET    any                  login 404   404   404   404   404   403   200   404   404   -

[api]
roles:                                                           anon  own   rkey  okey  ikey  oikey
api:api-root                         GET    any                  404   404   404   404   404   404
api:unknown                          GET    any                  404   404   404   404   404   404
api:openapi-json                     GET    any                  200   200   200   200   200   200
api:openapi-view                     GET    any                  200   200   200   200   200   200
api:shares                           GET    any                  401   401   200   200   403   403
api:share                            GET    active               401   401   200   404   403   403
api:share                            GET    expired              401   401   200   404   403   403
api:share                            GET    revoked              401   401   200   404   403   403
api:share                            PUT    active               405   405   405   405   405   405
api:share_document_pdf               GET    active               401   401   200   404   403   403
api:share_document_pdf               GET    expired              401   401   410   404   403   403
api:share_document_pdf               GET    revoked              401   401   410   404   403   403
api:share_document_pdf               GET    shared_doc_withdrawn 401   401   410   404   403   403
api:share_processed                  POST   active               401   401   200   404   403   403
api:share_processed                  DELETE active               401   401   200   404   403   403
api:share_processed                  POST   revoked              401   401   200   404   403   403
api:documents                        POST   any                  401   401   403   403   422   422
api:documents                        GET    any                  405   -     -     -     -     -
api:document                         GET    active               401   401   403   403   200   404
api:document                         GET    withdrawn            401   401   403   403   200   404
api:document                         GET    revoked              401   401   403   403   200   404
api:document_versions                POST   active               401   401   403   403   201   404
api:document_withdraw                POST   active               401   401   403   403   200   404
api:document_withdraw                POST   withdrawn            401   401   403   403   409   404
api:jobs                             POST   any                  401   401   403   403   422   422
api:job                              GET    any                  401   401   403   403   200   404
api:job_rejections                   GET    any                  401   401   403   403   200   404

[admin]
roles:                                                           anon  own   iad   pad
admin:*                              GET    any                  admin-login admin-login admin-login 200

[accounts]
roles:                                                           anon  own   ist   pad
route:login/                         GET    any                  login login login login
account_login                        GET    any                  200   302   302   302
account_logout                       GET    any                  login 200   200   200
account_logout                       POST   any                  login login login login
account_signup                       GET    any                  200   302   302   302
account_email                        GET    any                  login 200   200   200
account_email_verification_sent      GET    any                  200   200   200   200
account_inactive                     GET    any                  200   200   200   200
account_reauthenticate               GET    any                  login 200   200   200
account_confirm_login_code           GET    any                  login 302   302   302
account_change_password              GET    any                  login 200   200   200
account_set_password                 GET    any                  login 302   302   302
account_reset_password               GET    any                  200   200   200   200
account_reset_password_done          GET    any                  200   200   200   200
account_reset_password_from_key      GET    any                  200   200   200   200
account_reset_password_from_key_done GET    any                  200   200   200   200
account_confirm_email                GET    any                  200   200   200   200
accounts:invitation                  GET    any                  404   404   404   404
accounts:invitation_signup           GET    any                  404   404   404   404
mfa_index                            GET    any                  login 200   200   200
mfa_authenticate                     GET    any                  login 302   302   302
mfa_reauthenticate                   GET    any                  login 302   200   200
mfa_activate_totp                    GET    any                  login 302   302   302
mfa_deactivate_totp                  GET    any                  login 404   302   302
mfa_view_recovery_codes              GET    any                  login 404   404   404
mfa_download_recovery_codes          GET    any                  login 404   404   404
mfa_generate_recovery_codes          GET    any                  login 302   302   302
mfa_list_webauthn                    GET    any                  login 200   200   200
mfa_add_webauthn                     GET    any                  login 302   302   302
mfa_reauthenticate_webauthn          GET    any                  login 302   302   302
mfa_edit_webauthn                    GET    any                  login 302   302   302
mfa_remove_webauthn                  GET    any                  login 302   302   302
mfa_remove_webauthn                  POST   any                  login 302   302   302
account_privacy:page                 GET    any                  login 200   200   200
account_privacy:export               GET    any                  login 200   200   200
account_privacy:close                GET    any                  login -     -     405
account_privacy:close                POST   any                  login 400   400   400
account_privacy:closed               GET    any                  200   200   200   200
"""  # noqa: E501 -- a table reads best one row a line


@dataclasses.dataclass(frozen=True)
class Row:
    pattern: str
    method: str
    state: str
    role: str
    expected: str

    @property
    def id(self) -> str:
        method = "" if self.method == "GET" else f"|{self.method}"
        return f"{self.pattern}|{self.role}|{self.state}{method}"


@functools.cache
def rows() -> tuple[Row, ...]:
    """The table, one Row a cell (cells "-" left out)."""
    found = []
    roles: list[str] = []
    for number, line in enumerate(TABLE.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("["):
            continue
        if line.startswith("roles:"):
            roles = [ROLES[code] for code in line.removeprefix("roles:").split()]
            continue
        pattern, method, state, *cells = line.split()
        if len(cells) != len(roles):
            raise ValueError(f"line {number} of TABLE: {len(cells)} cells for {len(roles)} roles")
        found += [
            Row(pattern, method, state, role, cell)
            for role, cell in zip(roles, cells, strict=True)
            if cell != "-"
        ]
    ids = [row.id for row in found]
    if len(ids) != len(set(ids)):
        raise ValueError(f"rows twice in TABLE: {sorted({i for i in ids if ids.count(i) > 1})}")
    return tuple(found)


def covered_patterns() -> set[str]:
    return {row.pattern for row in rows()}
