# Plain binary cross-entropy (mean over B x C), ResNet-50 + PFC neck, VOC-LT, the DB-loss schedule: the "BCE" row.
# Every row of this folder is DistributionBalancedLoss with parts switched on or off, so all share the loss scale.
# Model, loss and schedule: ./_base_/bce_resnet50-pfc_8e.py; map_mu 0.3 is the paper's VOC-LT value.
#   python tools/train.py configs/db_loss/bce_resnet50-pfc_1xb32_voc-lt_8e.py
_base_ = ['./_base_/bce_resnet50-pfc_8e.py', '../_base_/datasets/voc_lt.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}}, map_mu=0.3)))
# The official loader (mllt/datasets/loader/build_loader.py) drops the last incomplete batch.
train_dataloader = dict(drop_last=True)
