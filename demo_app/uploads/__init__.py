"""Files from outside: which file arguments count as uploads, a guard in front of Gradio's routes
(nothing fetched, bodies and uploads bounded), and the sweeper that cleans Gradio's cache."""

from demo_app.uploads._guard import GuardLimits, RequestGuard
from demo_app.uploads._inputs import FileInputs
from demo_app.uploads._policy import NotAnUpload, UploadPolicy, is_file_dict
from demo_app.uploads._quota import MIB, UploadQuota
from demo_app.uploads._sweeper import CacheSweeper, Sweep

__all__ = [
    "MIB",
    "CacheSweeper",
    "FileInputs",
    "GuardLimits",
    "NotAnUpload",
    "RequestGuard",
    "Sweep",
    "UploadPolicy",
    "UploadQuota",
    "is_file_dict",
]
