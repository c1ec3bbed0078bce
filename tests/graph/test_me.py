from tests.kit.accounts import make_tenant
from tests.kit.clients import GraphQLClient
from tests.kit.documents import ME


async def test_admin_sees_every_permission_but_device_bootstrap(admin: GraphQLClient) -> None:
    me = (await admin.data(ME))["me"]
    assert me["tenantId"] == "management"
    assert me["username"] == "admin"
    assert "DEVICE_BOOTSTRAP" not in me["permissions"]
    assert "TENANT_MANAGEMENT_ADMIN" in me["permissions"]
    assert len(me["permissions"]) == 8


async def test_bare_username_means_management_tenant(admin: GraphQLClient) -> None:
    bare = admin.as_user("admin", "admin-password")
    assert (await bare.data(ME))["me"]["tenantId"] == "management"


async def test_bootstrap_user_has_only_device_bootstrap(admin: GraphQLClient) -> None:
    bootstrap = admin.as_user("management/devicebootstrap", "bootstrap-password")
    assert (await bootstrap.data(ME))["me"]["permissions"] == ["DEVICE_BOOTSTRAP"]


async def test_subtenant_admin_lacks_tenant_management(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    me = (await acme.data(ME))["me"]
    assert me["tenantId"] == "acme"
    assert "TENANT_MANAGEMENT_ADMIN" not in me["permissions"]
    assert "DEVICE_BOOTSTRAP" not in me["permissions"]
    assert "DEVICE_CONTROL_ADMIN" in me["permissions"]
