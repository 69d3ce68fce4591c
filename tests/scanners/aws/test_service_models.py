"""share_service_models: the processes hosting moto (the demo, this suite) parse each botocore
service model once, whichever session asks; a session with its own data path keeps its own."""

from __future__ import annotations

import boto3
import botocore.session

from aifinops_cli.scanners.aws import common


def test_default_sessions_share_the_scanners_loader_and_a_data_path_does_not(tmp_path):
    common.share_service_models()
    common.share_service_models()  # twice is once: the same factory, not a wrapper of it
    first = boto3.Session()._session.get_component("data_loader")
    second = botocore.session.Session().get_component("data_loader")
    assert first is second is common._LOADER
    # EC2's model, read through one session, is the other's cache hit: the same parsed object
    assert first.load_service_model("ec2", "service-2") is second.load_service_model("ec2", "service-2")

    own = botocore.session.Session()
    own.set_config_variable("data_path", str(tmp_path))
    assert own.get_component("data_loader") is not common._LOADER
    assert str(tmp_path) in own.get_component("data_loader").search_paths
