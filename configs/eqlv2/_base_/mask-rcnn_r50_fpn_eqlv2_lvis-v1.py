# EQLv2 on LVIS v1 without a schedule: the EQL v1 base (its sigmoid classifier init, the official one of both) with
# EqualizationLossV2 and its defaults. The LVIS v1 configs of this folder inherit it.
_base_ = '../../eql/_base_/mask-rcnn_r50_fpn_eql_lvis-v1.py'
model = dict(roi_head=dict(bbox_head=dict(loss_cls=dict(
    _delete_=True, type='EqualizationLossV2', num_classes={{_base_.num_classes}}, gamma=12.0, mu=0.8, alpha=4.0))))
