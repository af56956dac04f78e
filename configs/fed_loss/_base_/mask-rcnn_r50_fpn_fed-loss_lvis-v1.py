# Federated loss on LVIS v1 without a schedule: ../../_base_/mask-rcnn_r50_fpn_lvis-v1.py with FederatedLoss (50
# sampled classes, image_count^0.5). The LVIS v1 configs of this folder inherit it.
_base_ = '../../_base_/mask-rcnn_r50_fpn_lvis-v1.py'
# detectron2 keeps its default classifier init (bias 0) with the federated loss
model = dict(roi_head=dict(bbox_head=dict(loss_cls=dict(
    _delete_=True, type='FederatedLoss', num_classes={{_base_.num_classes}}, num_sampled_classes=50,
    freq_weight_power=0.5, class_stats={{_base_.class_stats}}))))
