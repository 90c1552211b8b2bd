"""``kcr lab``: the incidents a team should see kcr handle before an assistant meets production."""
