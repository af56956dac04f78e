# Federated loss (Zhou et al., CenterNet2 / detectron2): sigmoid CE over 50 classes per batch drawn by
# image_count^0.5. Mask R-CNN R50-FPN, LVIS v1, uniform image sampling, multi-scale 640-800, 1x (12 epochs). The
# other depths / schedules / RFS variants in this folder inherit this file.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_lvis.py',
    '../_base_/datasets/lvis_v1_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]
model = dict(roi_head=dict(
    bbox_head=dict(
        num_classes=1203,
        # detectron2 keeps its default classifier init (bias 0) with the federated loss
        loss_cls=dict(_delete_=True, type='FederatedLoss', num_classes=1203, num_sampled_classes=50,
                      freq_weight_power=0.5,
                      class_stats='data/lvis_v1/annotations/lvis_v1_train_class_stats.json')),
    mask_head=dict(num_classes=1203)))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
train_cfg = dict(val_interval=12)  # LVIS evaluation once, at the end
