"""Batch scoring shared by both engines of `leadscore predict`: the core (`batch`: before, per part,
after), the steps of a batch (`steps`; `alerts` the first), the inputs checked against the model
(`checks`) and the drift of a scored batch (`drift`)."""
