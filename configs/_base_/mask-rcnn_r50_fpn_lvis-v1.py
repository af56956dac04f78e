# Mask R-CNN R50-FPN on LVIS v1 without a schedule: the LVIS model, data and mmdet runtime, both heads sized from the
# dataset. configs/lvis pairs it with a ./schedules/lvis_*.py base; the LVIS v1 method bases inherit it.
_base_ = ['./models/mask-rcnn_r50_fpn_lvis.py', './datasets/lvis_v1_instance.py', 'mmdet::_base_/default_runtime.py']
model = dict(roi_head=dict(bbox_head=dict(num_classes={{_base_.num_classes}}),
                           mask_head=dict(num_classes={{_base_.num_classes}})))
