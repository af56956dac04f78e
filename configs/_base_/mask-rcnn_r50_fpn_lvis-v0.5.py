# Mask R-CNN R50-FPN on LVIS v0.5 without a schedule: ./mask-rcnn_r50_fpn_lvis-v1.py on the v0.5 data. configs/lvis
# pairs it with a ./schedules/lvis_*.py base; the LVIS v0.5 method bases inherit it.
_base_ = ['./models/mask-rcnn_r50_fpn_lvis.py', './datasets/lvis_v0.5_instance.py', 'mmdet::_base_/default_runtime.py']
model = dict(roi_head=dict(bbox_head=dict(num_classes={{_base_.num_classes}}),
                           mask_head=dict(num_classes={{_base_.num_classes}})))
