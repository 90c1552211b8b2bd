"""The lab's scenarios, one module each; every module here is found and run by ``kcr lab``."""
