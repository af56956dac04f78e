# Federated loss on the LT-Shapes demo (CPU, minutes). LVIS trains 50 of 1,204 columns per batch; with 30 classes,
# 50 would train them all every batch, so the demo samples 10.
_base_ = '../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py'
model = dict(roi_head=dict(
    bbox_head=dict(
        loss_cls=dict(_delete_=True, type='FederatedLoss', num_classes=30, num_sampled_classes=10,
                      freq_weight_power=0.5, class_stats='data/lt_shapes/annotations/lt_shapes_train.json'))))
